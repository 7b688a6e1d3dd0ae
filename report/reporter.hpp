#pragma once

// Progress for humans while a session runs (results go to stdout through the
// renderers, not here). Abstract so tests run quiet.

#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace perfbisect {

// Where a running session stands, for the live progress line.
struct Progress {
    int step = 0;            // commits tested so far (built or measured), the current one included
    int steps_estimate = 0;  // step + what a bisection of the commits left takes (about)
    std::size_t range_size = 0;
    std::size_t commits_left = 0;  // commits that may still hold the culprit (0 when done)
    std::size_t first_open = 0;    // their first and last positions, when commits_left > 0
    std::size_t last_open = 0;
    std::string activity;        // "building 3f2a9c1e7b", "measuring 3f2a9c1e7b, 0a1b2c3d4e", …
    int samples = 0;             // values recorded by the session so far
    double elapsed_seconds = 0;  // wall time of the session, over all its runs
    std::optional<double> remaining_seconds;  // an estimate, once a step has been timed
};

// "step 3/~8 · 14 commits left (12–25) · measuring 3f2a9c1e7b · 86 samples ·
// 1m12s · ~1m40s left": the live line, at most max_columns characters
// (0: no limit).
std::string progress_line(const Progress& progress, std::size_t max_columns = 0);

class Reporter {
public:
    virtual ~Reporter() = default;
    // One line of progress, e.g. "measuring 3f2a9c1e7b (position 20/40)".
    virtual void progress(std::string_view line) = 0;
    // The state of the search changed: a step began, a sample was recorded.
    virtual void status(const Progress& /*progress*/) {}
    // The session stopped (done, failed or interrupted): no more status.
    virtual void finish() {}
};

// Progress on a stream (stderr): each line prefixed with the elapsed time.
// Live (a terminal): the status is one line redrawn in place at the bottom,
// cut to the terminal's width, and lines are printed above it. Not live (a
// pipe, a CI log): plain lines only, plus one "step k of ~n" line per step.
class TerminalReporter final : public Reporter {
public:
    // columns: the terminal's width (0 = ask the terminal, else 100).
    TerminalReporter(std::FILE* out, bool live, std::size_t columns = 0);
    ~TerminalReporter() override;
    TerminalReporter(const TerminalReporter&) = delete;
    TerminalReporter& operator=(const TerminalReporter&) = delete;

    void progress(std::string_view line) override;
    void status(const Progress& progress) override;
    void finish() override;

private:
    void clear_status();

    std::FILE* m_out;
    bool m_live;
    std::size_t m_columns;
    double m_start;
    bool m_status_shown = false;  // live: a status line is on screen
    std::string m_status;         // live: the last status line
    int m_logged_step = 0;        // not live: the last step printed
};

// Whether stderr is a terminal that can redraw a line (TERM is not "dumb").
bool stderr_is_live_terminal();

class QuietReporter final : public Reporter {
public:
    void progress(std::string_view /*line*/) override {}
};

}  // namespace perfbisect
