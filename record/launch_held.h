// Interim launcher: forks the command and holds it before exec until the BPF
// side is ready for it. To be replaced by record/launch.* (record-support),
// which adds --user/--caps and signal forwarding policy.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace capaudit::record {

class HeldChild {
 public:
  struct Options {
    std::vector<std::string> argv;
    std::string user;
    std::string caps;
  };
  static std::unique_ptr<HeldChild> spawn(const Options& options);
  ~HeldChild();  // kills a child that was never released

  pid_t pid() const { return pid_; }
  // Lets the child exec; throws common::Error if the exec failed.
  void release();
  std::optional<int> try_wait();  // raw wait status once it exited
  void signal(int sig);

 private:
  pid_t pid_ = -1;
  int go_fd_ = -1;    // write end: one byte = exec now
  int err_fd_ = -1;   // read end: errno of a failed exec, EOF on success
  bool released_ = false;
  bool reaped_ = false;
};

}  // namespace capaudit::record
