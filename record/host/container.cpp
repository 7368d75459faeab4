#include "record/host/container.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <fstream>
#include <sstream>

#include "common/container_ids.h"
#include "record/host/proc_scan.h"

namespace capaudit::record {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

bool is_dir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::optional<CommandOutput> run_command(const std::vector<std::string>& argv) {
  int out[2], err[2], ok[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(ok, O_CLOEXEC) != 0) return std::nullopt;
  pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    int e = errno;
    (void)!write(ok[1], &e, sizeof e);  // tells the parent exec failed
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  close(ok[1]);
  CommandOutput r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  int exec_errno = 0;
  bool exec_failed = read(ok[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  close(ok[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (exec_failed) return std::nullopt;
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

common::Result<ContainerTarget> resolve_container(const std::string& name, const CommandRunner& run,
                                                  const std::string& proc_root,
                                                  const std::vector<std::string>& cgroup_roots) {
  std::vector<std::string> missing, unknown;
  bool daemon_down = false;
  for (const std::string engine : {"podman", "docker"}) {
    // One line: id, running, status, pid (Go templates; both engines take them).
    auto r = run({engine, "inspect", "--type", "container", "--format",
                  "{{.Id}} {{.State.Running}} {{.State.Status}} {{.State.Pid}}", name});
    if (!r) {
      missing.push_back(engine);
      continue;
    }
    if (r->exit_code != 0) {
      const std::string said = trim(r->err.empty() ? r->out : r->err);
      // The docker CLI is only a client: without its daemon it knows no
      // container at all, which is not "no such container".
      if (engine == "docker" && said.find("Cannot connect to the Docker daemon") != std::string::npos) {
        daemon_down = true;
        unknown.push_back("docker: the Docker daemon is not running (" + said + ")");
      } else {
        unknown.push_back(engine + ": " + said);
      }
      continue;
    }
    std::istringstream in(r->out);
    ContainerTarget t;
    std::string running, status;
    long pid = 0;
    if (!(in >> t.id >> running >> status >> pid)) {
      return common::fail(engine + " inspect " + name + " printed something unexpected: " + trim(r->out));
    }
    t.engine = engine;
    t.name = name;
    if (running != "true" || pid <= 0) {
      return common::fail(engine + " container " + name + " is not running (status: " + status + ")",
                          "start it first (" + engine + " start " + name + "), or record its start with -- " + engine +
                              " start -a " + name);
    }
    t.pid = static_cast<uint32_t>(pid);
    // The engine's cgroup path is relative to its own view (cgroupfs or
    // systemd manager); the kernel's is the one the recorder filters on.
    std::ifstream cg(proc_root + "/" + std::to_string(pid) + "/cgroup");
    std::string text((std::istreambuf_iterator<char>(cg)), std::istreambuf_iterator<char>());
    const std::string rel = cgroup_v2_path(text);
    if (rel.empty()) {
      return common::fail("cannot read the cgroup of " + engine + " container " + name + " (pid " +
                              std::to_string(pid) + ")",
                          "it may have stopped meanwhile");
    }
    for (const auto& root : cgroup_roots) {
      if (is_dir(root + rel) && access((root + rel + "/cgroup.procs").c_str(), R_OK) == 0) {
        t.cgroup_dir = root + rel;
        break;
      }
    }
    if (t.cgroup_dir.empty()) {
      return common::fail(engine + " container " + name + " runs in cgroup " + rel + ", which no cgroup v2 mount shows",
                          "cgroup v2 is mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified");
    }
    return t;
  }
  if (unknown.empty())
    return common::fail("no container engine found: neither podman nor docker is installed (in PATH)",
                        "install podman or docker, or give the container's cgroup with --cgroup PATH");
  std::string error = "no running container '" + name + "'";
  for (const auto& u : unknown) error += "; " + u;
  return common::fail(error, daemon_down
                                 ? "if it is a docker container, start the Docker daemon first (systemctl start docker, or dockerd)"
                                 : "list containers with podman ps / docker ps");
}

namespace {

// Every directory at and below DIR (REL: its cgroup path) that names a
// container, the outermost directory of each id.
void find_containers(const std::string& dir, const std::string& rel, int depth,
                     std::map<std::string, std::string>& found) {
  if (found.size() >= 256) return;
  if (auto id = common::container_id_of_cgroup(rel); !id.empty()) found.emplace(id, rel);
  if (depth > 16) return;
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  if (!d) return;
  while (auto* ent = readdir(d.get())) {
    if (ent->d_type != DT_DIR || ent->d_name[0] == '.') continue;
    find_containers(dir + "/" + ent->d_name, rel + "/" + ent->d_name, depth + 1, found);
  }
}

}  // namespace

std::vector<common::ContainerName> containers_under(const std::string& cgroup_dir, const CommandRunner& run,
                                                    const std::vector<std::string>& cgroup_roots) {
  std::string rel;
  for (const auto& root : cgroup_roots) {
    if (cgroup_dir == root) {
      rel = "/";
      break;
    }
    if (cgroup_dir.rfind(root + "/", 0) == 0) {
      rel = cgroup_dir.substr(root.size());
      break;
    }
  }
  std::vector<common::ContainerName> out;
  if (rel.empty()) return out;  // not below a cgroup mount this knows: exec events name no ids either
  std::map<std::string, std::string> found;  // id -> cgroup path
  find_containers(cgroup_dir, rel == "/" ? "" : rel, 0, found);
  std::vector<std::string> missing;  // engines not installed: asked no more
  for (const auto& [id, cgroup] : found) {
    common::ContainerName c;
    c.id = id;
    c.cgroup = cgroup;
    for (const std::string engine : {"podman", "docker"}) {
      if (std::find(missing.begin(), missing.end(), engine) != missing.end()) continue;
      auto r = run({engine, "inspect", "--type", "container", "--format", "{{.Name}}", id});
      if (!r) {
        missing.push_back(engine);
        continue;
      }
      if (r->exit_code != 0) continue;
      std::string name = trim(r->out);
      if (!name.empty() && name[0] == '/') name.erase(0, 1);  // docker's names start with '/'
      if (name.empty() || name.find('\n') != std::string::npos) continue;
      c.name = name;
      c.engine = engine;
      break;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace capaudit::record
