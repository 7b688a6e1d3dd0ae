#include "report/reporter.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "util/text.hpp"

namespace perfbisect {
namespace {

double steady_seconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Characters as a terminal counts them: UTF-8 continuation bytes take no column.
std::size_t columns_of(std::string_view text) {
    std::size_t n = 0;
    for (char c : text) {
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
}

// The first max_columns characters, with "…" as the last when cut.
std::string cut_to(std::string text, std::size_t max_columns) {
    if (max_columns == 0 || columns_of(text) <= max_columns) {
        return text;
    }
    std::size_t kept = 0;
    std::size_t i = 0;
    while (i < text.size() && kept + 1 < max_columns) {
        ++i;
        while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) {
            ++i;
        }
        ++kept;
    }
    text.resize(i);
    return text + "…";
}

constexpr const char* k_clear_line = "\r\033[K";

}  // namespace

std::string progress_line(const Progress& p, std::size_t max_columns) {
    std::string line = fmt::format("step {}/~{}", p.step, std::max(p.step, p.steps_estimate));
    if (p.commits_left > 0) {
        line += p.commits_left == 1
                    ? fmt::format(" · 1 commit left ({})", p.first_open)
                    : fmt::format(" · {} commits left ({}–{} of {})", p.commits_left, p.first_open,
                                  p.last_open, p.range_size);
    }
    if (!p.activity.empty()) {
        line += " · " + p.activity;
    }
    line += fmt::format(" · {} sample{}", p.samples, p.samples == 1 ? "" : "s");
    line += " · " + format_seconds(p.elapsed_seconds);
    if (p.remaining_seconds) {
        line += fmt::format(" · ~{} left", format_seconds(*p.remaining_seconds));
    }
    return cut_to(std::move(line), max_columns);
}

bool stderr_is_live_terminal() {
    const char* term = std::getenv("TERM");
    return isatty(STDERR_FILENO) == 1 && (term == nullptr || std::strcmp(term, "dumb") != 0);
}

TerminalReporter::TerminalReporter(std::FILE* out, bool live, std::size_t columns)
    : m_out(out), m_live(live), m_columns(columns), m_start(steady_seconds()) {
    if (m_columns == 0) {
        struct winsize size {};
        m_columns = m_live && ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0
                        ? size.ws_col
                        : 100;
    }
}

TerminalReporter::~TerminalReporter() {
    finish();
}

void TerminalReporter::clear_status() {
    if (m_status_shown) {
        std::fputs(k_clear_line, m_out);
        m_status_shown = false;
    }
}

void TerminalReporter::progress(std::string_view line) {
    clear_status();
    fmt::print(m_out, "[{:6.1f}s] {}\n", steady_seconds() - m_start, line);
    if (m_live && !m_status.empty()) {
        std::fputs(m_status.c_str(), m_out);
        m_status_shown = true;
    }
    std::fflush(m_out);
}

void TerminalReporter::status(const Progress& progress) {
    if (m_live) {
        // One column spare: writing the last column makes some terminals wrap.
        m_status = progress_line(progress, m_columns > 1 ? m_columns - 1 : 0);
        std::fputs(k_clear_line, m_out);
        std::fputs(m_status.c_str(), m_out);
        m_status_shown = true;
        std::fflush(m_out);
        return;
    }
    if (progress.step != m_logged_step) {
        m_logged_step = progress.step;
        Progress summary = progress;
        summary.activity.clear();
        fmt::print(m_out, "[{:6.1f}s] {}\n", steady_seconds() - m_start, progress_line(summary));
        std::fflush(m_out);
    }
}

void TerminalReporter::finish() {
    clear_status();
    m_status.clear();
    std::fflush(m_out);
}

}  // namespace perfbisect
