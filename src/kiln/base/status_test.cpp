#include "kiln/base/status.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd", "x");
  return x / 2;
}

Result<int> Quarter(int x) {
  KILN_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Status::NotFound("no such campaign");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code_name(), "not_found");
  EXPECT_EQ(s.ToString(), "not_found: no such campaign");
  EXPECT_EQ(Status::InvalidArgument("bad", "email").ToString(), "invalid_argument: bad [email]");
  EXPECT_EQ(s.WithContext("load").message(), "load: no such campaign");
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(Quarter(8).value(), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().field(), "x");
  EXPECT_EQ(Half(3).value_or(-1), -1);
}

}  // namespace
}  // namespace kiln
