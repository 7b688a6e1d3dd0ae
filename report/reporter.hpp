#pragma once

// Progress for humans while a session runs (results go to stdout through the
// renderers, not here). Abstract so tests run quiet.

#include <string_view>

namespace perfbisect {

class Reporter {
public:
    virtual ~Reporter() = default;
    // One line of progress, e.g. "measuring 3f2a9c1e7b (position 20/40)".
    virtual void progress(std::string_view line) = 0;
};

// Writes progress lines to stderr, prefixed with the elapsed time.
class StderrReporter final : public Reporter {
public:
    StderrReporter();
    void progress(std::string_view line) override;

private:
    double m_start;
};

class QuietReporter final : public Reporter {
public:
    void progress(std::string_view /*line*/) override {}
};

}  // namespace perfbisect
