// --container: the engine's answers turned into a cgroup, or into an error a
// user can act on. The engine is a fake here; e2e_identity.cpp runs podman.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "record/host/container.h"

namespace capaudit::record {
namespace {

namespace fs = std::filesystem;

struct FakeTree {
  fs::path root = fs::temp_directory_path() / ("capaudit-container-" + std::to_string(getpid()));
  FakeTree() {
    fs::create_directories(root / "proc/4242");
    std::ofstream(root / "proc/4242/cgroup") << "9:pids:/libpod_parent/libpod-abc\n0::/libpod_parent/libpod-abc\n";
    fs::create_directories(root / "cg/libpod_parent/libpod-abc");
    std::ofstream(root / "cg/libpod_parent/libpod-abc/cgroup.procs") << "4242\n";
  }
  ~FakeTree() { fs::remove_all(root); }
};

CommandRunner engine(const std::string& name, std::optional<CommandOutput> answer) {
  return [=](const std::vector<std::string>& argv) -> std::optional<CommandOutput> {
    if (argv.at(0) != name) return std::nullopt;  // the other engine is not installed
    return answer;
  };
}

TEST(Container, ARunningPodmanContainerGivesItsCgroup) {
  FakeTree t;
  std::string error, hint;
  auto c = resolve_container("web", &error, &hint, engine("podman", CommandOutput{0, "abcdef0123456789 true running 4242\n", ""}),
                             (t.root / "proc").string(), {(t.root / "cg").string()});
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->engine, "podman");
  EXPECT_EQ(c->pid, 4242u);
  EXPECT_EQ(c->cgroup_dir, (t.root / "cg/libpod_parent/libpod-abc").string());
}

TEST(Container, DockerIsAskedWhenPodmanIsMissing) {
  FakeTree t;
  std::string error, hint;
  auto c = resolve_container("web", &error, &hint, engine("docker", CommandOutput{0, "abc true running 4242\n", ""}),
                             (t.root / "proc").string(), {(t.root / "cg").string()});
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->engine, "docker");
}

TEST(Container, AStoppedContainerIsSaidSo) {
  std::string error, hint;
  auto c = resolve_container("web", &error, &hint, engine("podman", CommandOutput{0, "abc false exited 0\n", ""}));
  EXPECT_FALSE(c);
  EXPECT_EQ(error, "podman container web is not running (status: exited)");
  EXPECT_NE(hint.find("podman start web"), std::string::npos);
}

TEST(Container, NoEngineAtAllIsSaidSo) {
  std::string error, hint;
  auto c = resolve_container("web", &error, &hint, [](const std::vector<std::string>&) { return std::nullopt; });
  EXPECT_FALSE(c);
  EXPECT_NE(error.find("neither podman nor docker is installed"), std::string::npos) << error;
  EXPECT_NE(hint.find("--cgroup"), std::string::npos);
}

TEST(Container, AnUnknownNameQuotesTheEngine) {
  std::string error, hint;
  auto c = resolve_container("nosuch", &error, &hint,
                             engine("podman", CommandOutput{125, "", "Error: no such container nosuch\n"}));
  EXPECT_FALSE(c);
  EXPECT_EQ(error, "no running container 'nosuch'; podman: Error: no such container nosuch");
}

// docker is a client of dockerd: with the daemon down it knows no container
// at all, which the error says instead of "no such container".
TEST(Container, ADockerDaemonThatIsNotRunningIsSaidSo) {
  std::string error, hint;
  const std::string down = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n";
  auto c = resolve_container("web", &error, &hint, engine("docker", CommandOutput{1, "\n", down}));
  EXPECT_FALSE(c);
  EXPECT_EQ(error, "no running container 'web'; docker: the Docker daemon is not running (" + down.substr(0, down.size() - 1) + ")");
  EXPECT_NE(hint.find("start the Docker daemon"), std::string::npos) << hint;
  // Beside podman, which was asked first and does not know the name.
  auto both = [&](const std::vector<std::string>& argv) -> std::optional<CommandOutput> {
    if (argv.at(0) == "podman") return CommandOutput{125, "", "Error: no such container web\n"};
    return CommandOutput{1, "\n", down};
  };
  EXPECT_FALSE(resolve_container("web", &error, &hint, both));
  EXPECT_EQ(error.rfind("no running container 'web'; podman: Error: no such container web; docker: the Docker daemon is not running (", 0), 0u)
      << error;
}

TEST(Container, RunCommandSaysWhenAProgramIsMissing) {
  EXPECT_FALSE(run_command({"capaudit-no-such-program-xyz"}));
  auto r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

}  // namespace
}  // namespace capaudit::record
