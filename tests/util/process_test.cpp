#include "util/process.hpp"

#include "tests/support/temp_dir.hpp"
#include "util/interrupt.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <signal.h>
#include <unistd.h>

using namespace perfbisect;
using perfbisect::testing::read_file;
using perfbisect::testing::TempDir;
using perfbisect::testing::write_file;

namespace {

ProcessSpec command(std::vector<std::string> argv, std::filesystem::path cwd = {}) {
    ProcessSpec spec;
    spec.argv = std::move(argv);
    spec.cwd = std::move(cwd);
    return spec;
}

ProcessSpec shell(const std::string& script) {
    return command({"/bin/sh", "-c", script});
}

pid_t read_pid(const std::filesystem::path& path) {
    std::string text = read_file(path);
    REQUIRE(!text.empty());
    return static_cast<pid_t>(std::stol(text));
}

// True once pid is dead: gone (ESRCH) or a zombie that its new parent has not
// reaped yet (a container's PID 1 may never reap). Polls for up to 3 s.
bool process_is_dead(pid_t pid) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < give_up) {
        if (::kill(pid, 0) != 0 && errno == ESRCH) {
            return true;
        }
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (std::getline(stat, line)) {
            auto after_name = line.rfind(')');
            if (after_name != std::string::npos && line.substr(after_name + 2, 1) == "Z") {
                return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

}  // namespace

TEST_CASE("RealProcessRunner passes exit codes through", "[process]") {
    RealProcessRunner runner;

    auto failed = runner.run(shell("exit 3"));
    CHECK(failed.started);
    CHECK(failed.exit_code == 3);
    CHECK(failed.signal == 0);
    CHECK_FALSE(failed.succeeded());
    CHECK(failed.describe() == "exit code 3");

    auto ok = runner.run(shell("true"));
    CHECK(ok.exit_code == 0);
    CHECK(ok.succeeded());
    CHECK(ok.describe() == "succeeded");
}

TEST_CASE("RealProcessRunner reports death by signal", "[process]") {
    RealProcessRunner runner;
    auto result = runner.run(shell("kill -TERM $$"));
    CHECK(result.started);
    CHECK(result.signal == SIGTERM);
    CHECK_FALSE(result.timed_out);
    CHECK_FALSE(result.succeeded());
    CHECK(result.describe() == "killed by signal 15 (SIGTERM)");
}

TEST_CASE("RealProcessRunner writes stdout and stderr to their files", "[process]") {
    TempDir dir;
    write_file(dir / "out.txt", "stale content that must be truncated away\n");
    auto spec =
        shell("echo to-stdout; echo to-stderr >&2; read line && echo \"stdin: $line\"; true");
    spec.stdout_path = dir / "out.txt";
    spec.stderr_path = dir / "err.txt";

    auto result = RealProcessRunner().run(spec);
    REQUIRE(result.succeeded());
    CHECK(read_file(dir / "out.txt") == "to-stdout\n");  // stdin is /dev/null: `read` fails
    CHECK(read_file(dir / "err.txt") == "to-stderr\n");
}

TEST_CASE("RealProcessRunner interleaves both streams into one file when the paths are equal",
          "[process]") {
    TempDir dir;
    auto spec = shell("echo one; echo two >&2; echo three; echo four >&2");
    spec.stdout_path = dir / "log.txt";
    spec.stderr_path = dir / "log.txt";

    REQUIRE(RealProcessRunner().run(spec).succeeded());
    CHECK(read_file(dir / "log.txt") == "one\ntwo\nthree\nfour\n");
}

TEST_CASE("RealProcessRunner discards output when no path is given", "[process]") {
    auto result = RealProcessRunner().run(shell("echo nowhere; echo nowhere >&2"));
    CHECK(result.succeeded());
}

TEST_CASE("RealProcessRunner adds spec.env to the inherited environment", "[process]") {
    TempDir dir;
    ::setenv("PERFBISECT_TEST_INHERITED", "inherited", 1);
    ::setenv("PERFBISECT_TEST_OVERRIDDEN", "parent", 1);
    auto spec = shell(
        "printf '%s %s %s' \"$PERFBISECT_TEST_INHERITED\" \"$PERFBISECT_TEST_OVERRIDDEN\" "
        "\"$PERFBISECT_TEST_NEW\"");
    spec.env = {{"PERFBISECT_TEST_OVERRIDDEN", "child"}, {"PERFBISECT_TEST_NEW", "new value"}};
    spec.stdout_path = dir / "out.txt";

    auto result = RealProcessRunner().run(spec);
    ::unsetenv("PERFBISECT_TEST_INHERITED");
    ::unsetenv("PERFBISECT_TEST_OVERRIDDEN");
    REQUIRE(result.succeeded());
    CHECK(read_file(dir / "out.txt") == "inherited child new value");
    CHECK(std::getenv("PERFBISECT_TEST_NEW") == nullptr);  // the parent's environment is untouched
}

TEST_CASE("RealProcessRunner gives its common environment to every child, not to itself",
          "[process]") {
    TempDir dir;
    RealProcessRunner runner(
        {{"PERFBISECT_TEST_COMMON", "common"}, {"PERFBISECT_TEST_SHADOWED", "common"}});
    auto spec = shell("printf '%s %s' \"$PERFBISECT_TEST_COMMON\" \"$PERFBISECT_TEST_SHADOWED\"");
    spec.env = {{"PERFBISECT_TEST_SHADOWED", "spec"}};
    for (const char* name : {"first.txt", "second.txt"}) {
        spec.stdout_path = dir / name;
        REQUIRE(runner.run(spec).succeeded());
        CHECK(read_file(dir / name) == "common spec");
    }
    // Never setenv(): other threads may read this process's environment.
    CHECK(std::getenv("PERFBISECT_TEST_COMMON") == nullptr);
    CHECK(std::getenv("PERFBISECT_TEST_SHADOWED") == nullptr);
}

TEST_CASE("RealProcessRunner runs in the given working directory", "[process]") {
    TempDir dir;
    std::filesystem::create_directory(dir / "work");
    write_file(dir / "work" / "script.sh", "#!/bin/sh\npwd -P\n");
    std::filesystem::permissions(dir / "work" / "script.sh", std::filesystem::perms::owner_exec,
                                 std::filesystem::perm_options::add);

    SECTION("for the shell") {
        auto spec = shell("pwd -P");
        spec.cwd = dir / "work";
        spec.stdout_path = dir / "out.txt";
        REQUIRE(RealProcessRunner().run(spec).succeeded());
    }
    SECTION("for a relative program path, resolved against cwd") {
        auto spec = command({"./script.sh"}, dir / "work");
        spec.stdout_path = dir / "out.txt";
        REQUIRE(RealProcessRunner().run(spec).succeeded());
    }
    CHECK(read_file(dir / "out.txt") == (dir / "work").string() + "\n");
}

TEST_CASE("RealProcessRunner reports programs it cannot start without throwing", "[process]") {
    TempDir dir;
    RealProcessRunner runner;

    SECTION("not in PATH") {
        auto result = runner.run(command({"perfbisect-no-such-command", "arg"}));
        CHECK_FALSE(result.started);
        CHECK_FALSE(result.succeeded());
        CHECK(result.error == "command not found: perfbisect-no-such-command");
        CHECK(result.describe() ==
              "could not start: command not found: perfbisect-no-such-command");
    }
    SECTION("PATH from spec.env is searched") {
        auto spec = command({"sh", "-c", "exit 4"});
        spec.env = {{"PATH", (dir / "empty").string()}};
        auto result = runner.run(spec);
        CHECK_FALSE(result.started);
        CHECK(result.error == "command not found: sh");
    }
    SECTION("a path that does not exist") {
        auto result = runner.run(command({"./missing"}, dir.path()));
        CHECK_FALSE(result.started);
        CHECK(result.error == "command not found: ./missing");
    }
    SECTION("a file without execute permission") {
        write_file(dir / "x", "#!/bin/sh\n");
        auto result = runner.run(command({"./x"}, dir.path()));
        CHECK_FALSE(result.started);
        CHECK(result.error == "not executable: ./x");
    }
    SECTION("a file the kernel cannot execute") {
        write_file(dir / "garbage", std::string("\x7f"
                                                "ELF garbage",
                                                12));
        std::filesystem::permissions(dir / "garbage", std::filesystem::perms::owner_all);
        auto result = runner.run(command({(dir / "garbage").string()}));
        CHECK_FALSE(result.started);
        CHECK_THAT(result.error, Catch::Contains("garbage") && Catch::Contains("format"));
    }
    SECTION("a working directory that does not exist") {
        auto spec = shell("true");
        spec.cwd = dir / "missing";
        auto result = runner.run(spec);
        CHECK_FALSE(result.started);
        CHECK_THAT(result.error, Catch::Contains("missing"));
    }
}

TEST_CASE("RealProcessRunner kills the whole process group on timeout", "[process]") {
    TempDir dir;
    auto spec = shell("sleep 30 & echo $! > grandchild.pid; sleep 30");
    spec.cwd = dir.path();
    spec.timeout = std::chrono::milliseconds(500);

    const auto before = std::chrono::steady_clock::now();
    auto result = RealProcessRunner().run(spec);
    const auto elapsed = std::chrono::steady_clock::now() - before;

    CHECK(result.started);
    CHECK(result.timed_out);
    CHECK_FALSE(result.interrupted);
    CHECK(result.signal == SIGKILL);
    CHECK_FALSE(result.succeeded());
    CHECK_THAT(result.describe(), Catch::StartsWith("timed out after "));
    CHECK(elapsed < std::chrono::seconds(5));
    CHECK(process_is_dead(read_pid(dir / "grandchild.pid")));
}

TEST_CASE("RealProcessRunner kills background processes left behind by a successful child",
          "[process]") {
    TempDir dir;
    auto spec = shell("sleep 30 & echo $! > background.pid; exit 0");
    spec.cwd = dir.path();

    auto result = RealProcessRunner().run(spec);
    CHECK(result.succeeded());
    CHECK(process_is_dead(read_pid(dir / "background.pid")));
}

TEST_CASE("RealProcessRunner measures peak memory of the child and its descendants", "[process]") {
    // dd reads 60 MB from /dev/zero into one buffer, touching every page.
    auto result = RealProcessRunner().run(
        shell("dd if=/dev/zero of=/dev/null bs=60M count=1 iflag=fullblock; true"));
    REQUIRE(result.succeeded());
    CHECK(result.max_rss_kib > 40000);
    CHECK(result.max_rss_kib < 1000000);
}

TEST_CASE("RealProcessRunner measures cpu time", "[process]") {
    auto result =
        RealProcessRunner().run(shell("i=0; while [ \"$i\" -lt 200000 ]; do i=$((i + 1)); done"));
    REQUIRE(result.succeeded());
    CHECK(result.user_seconds > 0);
    CHECK(result.system_seconds >= 0);
    CHECK(result.wall_seconds > 0);
}

TEST_CASE("RealProcessRunner stops the child when an interrupt is requested", "[process]") {
    clear_interrupt();
    std::thread interrupter([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        request_interrupt();
    });
    const auto before = std::chrono::steady_clock::now();
    auto result = RealProcessRunner().run(shell("sleep 30"));
    const auto elapsed = std::chrono::steady_clock::now() - before;
    interrupter.join();
    clear_interrupt();

    CHECK(result.started);
    CHECK(result.interrupted);
    CHECK_FALSE(result.timed_out);
    CHECK_FALSE(result.succeeded());
    CHECK(result.describe() == "interrupted");
    CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("ProcessResult::describe gives one line per outcome", "[process]") {
    ProcessResult result;
    result.error = "command not found: foo";
    CHECK(result.describe() == "could not start: command not found: foo");

    result = ProcessResult();
    result.started = true;
    result.exit_code = 0;
    CHECK(result.describe() == "succeeded");
    result.exit_code = 2;
    CHECK(result.describe() == "exit code 2");

    result.exit_code = -1;
    result.signal = SIGKILL;
    CHECK(result.describe() == "killed by signal 9 (SIGKILL)");

    result.timed_out = true;
    result.wall_seconds = 5.004;
    CHECK(result.describe() == "timed out after 5s");
    result.wall_seconds = 0.3021;
    CHECK(result.describe() == "timed out after 0.3s");

    result.timed_out = false;
    result.interrupted = true;
    CHECK(result.describe() == "interrupted");
}

TEST_CASE("read_file_tail keeps the end of long files", "[process]") {
    TempDir dir;
    write_file(dir / "short.txt", "hello");
    write_file(dir / "long.txt", "0123456789");

    CHECK(read_file_tail(dir / "short.txt", 5) == "hello");
    CHECK(read_file_tail(dir / "short.txt", 100) == "hello");
    CHECK(read_file_tail(dir / "long.txt", 4) == "…6789");
    CHECK(read_file_tail(dir / "long.txt", 0) == "…");
    CHECK(read_file_tail(dir / "missing.txt", 10).empty());
}
