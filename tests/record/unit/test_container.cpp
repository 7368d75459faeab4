// --container: the engine's answers turned into a cgroup, or into an error a
// user can act on. The engine is a fake here; tests/record/e2e/test_identity.cpp runs podman.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "record/host/container.h"
#include "tests/support/scratch_dir.h"

namespace capaudit::record {
namespace {

namespace fs = std::filesystem;

struct FakeTree {
  capaudit::test::ScratchDir scratch{"capaudit-container"};
  fs::path root = scratch.path();
  FakeTree() {
    fs::create_directories(root / "proc/4242");
    std::ofstream(root / "proc/4242/cgroup") << "9:pids:/libpod_parent/libpod-abc\n0::/libpod_parent/libpod-abc\n";
    fs::create_directories(root / "cg/libpod_parent/libpod-abc");
    std::ofstream(root / "cg/libpod_parent/libpod-abc/cgroup.procs") << "4242\n";
  }
};

CommandRunner engine(const std::string& name, std::optional<CommandOutput> answer) {
  return [=](const std::vector<std::string>& argv) -> std::optional<CommandOutput> {
    if (argv.at(0) != name) return std::nullopt;  // the other engine is not installed
    return answer;
  };
}

TEST(Container, ARunningPodmanContainerGivesItsCgroup) {
  FakeTree t;
  auto c = resolve_container("web", engine("podman", CommandOutput{0, "abcdef0123456789 true running 4242\n", ""}),
                             (t.root / "proc").string(), {(t.root / "cg").string()});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->engine, "podman");
  EXPECT_EQ(c->pid, 4242u);
  EXPECT_EQ(c->cgroup_dir, (t.root / "cg/libpod_parent/libpod-abc").string());
}

TEST(Container, DockerIsAskedWhenPodmanIsMissing) {
  FakeTree t;
  auto c = resolve_container("web", engine("docker", CommandOutput{0, "abc true running 4242\n", ""}),
                             (t.root / "proc").string(), {(t.root / "cg").string()});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->engine, "docker");
}

TEST(Container, AStoppedContainerIsSaidSo) {
  auto c = resolve_container("web", engine("podman", CommandOutput{0, "abc false exited 0\n", ""}));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "podman container web is not running (status: exited)");
  EXPECT_EQ(c.error().hint, "start it first (podman start web), or record its start with -- podman start -a web");
  EXPECT_EQ(c.error().exit_code, 1);
}

TEST(Container, NoEngineAtAllIsSaidSo) {
  auto c = resolve_container("web", [](const std::vector<std::string>&) { return std::nullopt; });
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "no container engine found: neither podman nor docker is installed (in PATH)");
  EXPECT_EQ(c.error().hint, "install podman or docker, or give the container's cgroup with --cgroup PATH");
}

TEST(Container, AnUnknownNameQuotesTheEngine) {
  auto c = resolve_container("nosuch", engine("podman", CommandOutput{125, "", "Error: no such container nosuch\n"}));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "no running container 'nosuch'; podman: Error: no such container nosuch");
  EXPECT_EQ(c.error().hint, "list containers with podman ps / docker ps");
}

// docker is a client of dockerd: with the daemon down it knows no container
// at all, which the error says instead of "no such container".
TEST(Container, ADockerDaemonThatIsNotRunningIsSaidSo) {
  const std::string down = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n";
  auto c = resolve_container("web", engine("docker", CommandOutput{1, "\n", down}));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "no running container 'web'; docker: the Docker daemon is not running (" + down.substr(0, down.size() - 1) + ")");
  EXPECT_NE(c.error().hint.find("start the Docker daemon"), std::string::npos) << c.error().hint;
  // Beside podman, which was asked first and does not know the name.
  auto both = [&](const std::vector<std::string>& argv) -> std::optional<CommandOutput> {
    if (argv.at(0) == "podman") return CommandOutput{125, "", "Error: no such container web\n"};
    return CommandOutput{1, "\n", down};
  };
  auto c2 = resolve_container("web", both);
  ASSERT_FALSE(c2);
  EXPECT_EQ(c2.error().message.rfind("no running container 'web'; podman: Error: no such container web; docker: the Docker daemon is not running (", 0), 0u)
      << c2.error().message;
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
