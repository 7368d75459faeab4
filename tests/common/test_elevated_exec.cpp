// A setuid, setgid or file-capability copy of a privileged tool is refused
// (common/elevated_exec.h).
#include "common/elevated_exec.h"

#include <gtest/gtest.h>

namespace capaudit::common {
namespace {

TEST(ElevatedExec, AnElevatedExecIsRefused) {
  EXPECT_FALSE(elevated_exec_reason(0, 0, 0, 0, false));        // root, sudo
  EXPECT_FALSE(elevated_exec_reason(1000, 1000, 1000, 1000, false));
  auto setuid = elevated_exec_reason(65534, 0, 65534, 65534, true);
  ASSERT_TRUE(setuid);
  EXPECT_NE(setuid->find("setuid"), std::string::npos) << *setuid;
  auto setgid = elevated_exec_reason(1000, 1000, 1000, 0, true);
  ASSERT_TRUE(setgid);
  EXPECT_NE(setgid->find("setgid"), std::string::npos) << *setgid;
  auto filecaps = elevated_exec_reason(1000, 1000, 1000, 1000, true);  // setcap cap_bpf,cap_perfmon+ep copy
  ASSERT_TRUE(filecaps);
  EXPECT_NE(filecaps->find("file capabilities"), std::string::npos) << *filecaps;
  // A setuid-root program that already switched back (uid == euid == 0) is still an elevated exec.
  EXPECT_TRUE(elevated_exec_reason(0, 0, 0, 0, true));
  EXPECT_FALSE(elevated_exec_reason()) << "the test itself runs from an ordinary exec";
}

}  // namespace
}  // namespace capaudit::common
