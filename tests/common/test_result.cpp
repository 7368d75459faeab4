// common::Result: a value or a Failure, and the Failure thrown as common::Error.
#include "common/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace capaudit::common {
namespace {

Result<int> half(int n) {
  if (n % 2) return fail("odd: " + std::to_string(n), "give an even number", 2);
  return n / 2;
}

TEST(Result, HoldsTheValueOrTheFailure) {
  auto good = half(4);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "odd: 3");
  EXPECT_EQ(bad.error().hint, "give an even number");
  EXPECT_EQ(bad.error().exit_code, 2);
}

TEST(Result, OrThrowRaisesTheFailureAsError) {
  EXPECT_EQ(half(8).or_throw(), 4);
  try {
    (void)half(5).or_throw();
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "odd: 5");
    EXPECT_EQ(e.hint, "give an even number");
    EXPECT_EQ(e.exit_code, 2);
  }
}

TEST(Result, MovesOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> p = std::move(r).or_throw();
  EXPECT_EQ(*p, 7);
}

TEST(Result, VoidIsOkOrAFailure) {
  Result<> ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_NO_THROW(ok.or_throw());
  Result<> bad = fail("no");
  EXPECT_FALSE(bad);
  EXPECT_THROW(bad.or_throw(), Error);
  EXPECT_EQ(Failure::from(Error("x", "y", 3)).exit_code, 3);
}

}  // namespace
}  // namespace capaudit::common
