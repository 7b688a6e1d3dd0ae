// Progress for humans: the status line, the terminal reporter's live and
// plain modes (into a real file), and where a session stands (progress_of).
#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>

#include "bisect/session_driver.hpp"
#include "report/reporter.hpp"

using namespace perfbisect;

namespace {

// What a TerminalReporter wrote into a temporary file.
struct Captured {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::tmpfile(), &std::fclose};

    std::string text() const {
        std::fflush(file.get());
        std::rewind(file.get());
        std::string out;
        char buffer[4096];
        std::size_t n;
        while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
            out.append(buffer, n);
        }
        return out;
    }
};

Progress sample_progress() {
    Progress p;
    p.step = 3;
    p.steps_estimate = 8;
    p.range_size = 40;
    p.commits_left = 14;
    p.first_open = 12;
    p.last_open = 25;
    p.activity = "measuring 3f2a9c1e7b";
    p.samples = 86;
    p.elapsed_seconds = 72;
    p.remaining_seconds = 100;
    return p;
}

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("the status line says step, range left, commit, samples, elapsed and remaining",
          "[reporter]") {
    const std::string line = progress_line(sample_progress());
    CHECK(line ==
          "step 3/~8 · 14 commits left (12–25 of 40) · measuring 3f2a9c1e7b · 86 samples "
          "· 1m12s · ~1m40s left");
    Progress early = sample_progress();
    early.remaining_seconds.reset();
    early.commits_left = 1;
    early.first_open = 26;
    CHECK(progress_line(early).find("1 commit left (26)") != std::string::npos);
    CHECK(progress_line(early).find("left ·") == std::string::npos);
    // Cut to the terminal, counting characters, not bytes.
    const std::string cut = progress_line(sample_progress(), 30);
    CHECK(cut.ends_with("…"));
    std::size_t columns = 0;
    for (char c : cut) {
        columns += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    CHECK(columns == 30);
}

TEST_CASE("on a terminal the status is one line redrawn in place, log lines above it",
          "[reporter]") {
    Captured out;
    {
        TerminalReporter reporter(out.file.get(), true, 200);
        reporter.status(sample_progress());
        reporter.progress("building 3f2a9c1e7b (position 20/39) Some commit");
        Progress later = sample_progress();
        later.samples = 87;
        reporter.status(later);
        reporter.finish();
    }
    const std::string text = out.text();
    // Each status redraw starts by returning the cursor and clearing the line.
    CHECK(count(text, "\r\033[K") >= 4);
    CHECK(text.find("86 samples") != std::string::npos);
    CHECK(text.find("87 samples") != std::string::npos);
    // The log line ends with a newline and the status is drawn again after it.
    const auto log = text.find("building 3f2a9c1e7b");
    REQUIRE(log != std::string::npos);
    CHECK(text.find('\n', log) != std::string::npos);
    CHECK(text.find("86 samples", log) != std::string::npos);
    // Finished: the status line is cleared, nothing follows.
    CHECK(text.ends_with("\r\033[K"));
    CHECK(count(text, "\n") == 1);
}

TEST_CASE("in a log the reporter writes plain lines: one per step, none redrawn", "[reporter]") {
    Captured out;
    {
        TerminalReporter reporter(out.file.get(), false);
        reporter.status(sample_progress());
        Progress same_step = sample_progress();
        same_step.samples = 90;
        reporter.status(same_step);  // same step: no new line
        reporter.progress("measuring 4 rounds of 3f2a9c1e7b");
        Progress next = sample_progress();
        next.step = 4;
        reporter.status(next);
    }
    const std::string text = out.text();
    CHECK(text.find('\r') == std::string::npos);
    CHECK(text.find('\033') == std::string::npos);
    CHECK(count(text, "step 3/~8") == 1);
    CHECK(count(text, "step 4/~8") == 1);
    CHECK(text.find("measuring 4 rounds") != std::string::npos);
    CHECK(count(text, "\n") == 3);
}

TEST_CASE("progress_of: commits tested, culprits still possible, steps and time left",
          "[reporter][driver]") {
    Observations obs(40);
    for (std::size_t p : {0, 39}) {
        obs[p].build = BuildState::ok;
        obs[p].values.assign(10, 1.0);
    }
    Plan plan;
    plan.next = MeasureAction{{0, 39}, 4};
    for (std::size_t p = 1; p <= 39; ++p) {
        plan.open.push_back(p);
    }
    Progress start = progress_of(obs, plan, 20);
    CHECK(start.step == 2);
    CHECK(start.commits_left == 39);
    CHECK(start.first_open == 1);
    CHECK(start.last_open == 39);
    CHECK(start.steps_estimate == 2 + 6);  // ceil(log2 39)
    CHECK(start.samples == 20);
    CHECK_FALSE(start.remaining_seconds);  // the ends' time is not a step's

    obs[20].build = BuildState::ok;
    obs[20].values.assign(5, 1.0);
    obs[30].build = BuildState::ok;
    plan.next = BuildAction{25};
    plan.open = {21, 22, 23, 24, 25, 26, 27, 28};
    Progress later = progress_of(obs, plan, 40);
    CHECK(later.step == 5);  // 0, 20, 30, 39, and 25 being built
    CHECK(later.commits_left == 8);
    CHECK(later.steps_estimate == 5 + 3);
    REQUIRE(later.remaining_seconds);
    CHECK(*later.remaining_seconds == Approx(40.0 / 5 * 3));

    plan.next = DoneAction{};
    plan.open.clear();
    Progress done = progress_of(obs, plan, 50);
    CHECK(done.commits_left == 0);
    CHECK(done.steps_estimate == done.step);
}
