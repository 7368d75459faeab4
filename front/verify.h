// `capaudit verify`: re-runs a command under its recommended capability set
// and has the analyzer judge the run (front/verify.cpp).
#pragma once

namespace capaudit::front {

// argv[0] is "verify". Returns the exit status; throws common::Error.
int verify_main(int argc, char** argv);

}  // namespace capaudit::front
