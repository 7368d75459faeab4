// A process whose program the trace does not name: every config says so in
// words and never writes a placeholder where a path, unit or service name goes.
#include <gtest/gtest.h>

#include "analyze/config/configs.h"

namespace capaudit::analyze {
namespace {

TEST(UnknownExecutable, ConfigsSayItInWordsNeverAsAPath) {
  ConfigInput in;
  ExecutableNeeds known;
  known.path = "/usr/sbin/webd";
  known.caps = (uint64_t{1} << 10);
  ExecutableNeeds unknown;
  unknown.caps = (uint64_t{1} << 7);
  unknown.unknown_pids = {4242};
  in.executables = {unknown, known};
  in.name = "webd";
  for (ConfigFormat f : all_config_formats()) {
    const std::string text = render_config(f, in);
    SCOPED_TRACE(std::string(config_format_name(f)));
    EXPECT_EQ(text.find("unknown executable"), std::string::npos) << text;
    EXPECT_EQ(text.find("=ep \n"), std::string::npos) << text;
    EXPECT_EQ(text.find("filecap  "), std::string::npos) << text;
  }
  const std::string setcap = render_config(ConfigFormat::setcap, in);
  EXPECT_NE(setcap.find("setcap cap_net_bind_service=ep /usr/sbin/webd"), std::string::npos) << setcap;
  EXPECT_NE(setcap.find("# the trace does not name the program of pid 4242"), std::string::npos) << setcap;
  // Non-root: the container warning lists file capabilities per binary.
  in.uid = in.gid = 1000;
  const std::string docker = render_config(ConfigFormat::docker, in);
  EXPECT_NE(docker.find("RUN setcap cap_net_bind_service=ep /usr/sbin/webd"), std::string::npos) << docker;
  EXPECT_NE(docker.find("program of pid 4242"), std::string::npos) << docker;
  EXPECT_EQ(docker.find("=ep \n"), std::string::npos) << docker;
}

}  // namespace
}  // namespace capaudit::analyze
