#include "probes/profile.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "util/text.hpp"

namespace perfbisect {

void FlatProfile::merge(const FlatProfile& other) {
    total += other.total;
    runs += other.runs;
    for (const auto& [name, cost] : other.functions) {
        auto& mine = functions[name];
        mine.inclusive += cost.inclusive;
        mine.self += cost.self;
    }
}

namespace {

bool parse_double(std::string_view text, double& out) {
    const std::string copy(text);
    char* end = nullptr;
    out = std::strtod(copy.c_str(), &end);
    return !copy.empty() && end == copy.c_str() + copy.size() && std::isfinite(out);
}

// The next whitespace-separated token of line from pos, advancing pos.
std::string_view next_token(std::string_view line, std::size_t& pos) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) {
        ++pos;
    }
    const std::size_t start = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') {
        ++pos;
    }
    return line.substr(start, pos - start);
}

bool is_address(std::string_view name) {
    if (!name.starts_with("0x") || name.size() < 3) {
        return false;
    }
    return std::all_of(name.begin() + 2, name.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

Result<FlatProfile> parse_perf_report(std::string_view text) {
    FlatProfile profile;
    profile.runs = 1;
    double event_count = 0;
    double samples = 0;
    std::map<std::string, std::pair<double, double>> shares;  // inclusive %, self %
    for (const auto& raw : split_lines(text)) {
        const std::string_view line(raw);
        if (line.starts_with("#")) {
            constexpr std::string_view k_events = "# Event count (approx.):";
            constexpr std::string_view k_samples = "# Samples:";
            if (line.starts_with(k_events)) {
                parse_double(trim(line.substr(k_events.size())), event_count);
            } else if (line.starts_with(k_samples)) {
                std::size_t pos = k_samples.size();
                std::string count(next_token(line, pos));
                double scale = 1;
                if (!count.empty() && (count.back() == 'K' || count.back() == 'M')) {
                    scale = count.back() == 'K' ? 1e3 : 1e6;
                    count.pop_back();
                }
                if (parse_double(count, samples)) {
                    samples *= scale;
                }
            }
            continue;
        }
        std::size_t pos = 0;
        std::vector<double> percents;
        std::string_view token = next_token(line, pos);
        while (token.size() > 1 && token.back() == '%') {
            double value = 0;
            if (!parse_double(token.substr(0, token.size() - 1), value)) {
                break;
            }
            percents.push_back(value);
            token = next_token(line, pos);
        }
        if (percents.empty()) {
            continue;  // a blank line or perf's notes
        }
        if (!token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c)) != 0;
            })) {
            token = next_token(line, pos);  // the Samples column (-n)
        }
        if (token.size() != 3 || token.front() != '[' || token.back() != ']') {
            return runtime_error(fmt::format(
                "unexpected line in perf report: '{}' (expected \"children% self% [.] symbol\")",
                one_line(line)));
        }
        const std::string symbol = trim(line.substr(pos));
        if (symbol.empty()) {
            continue;
        }
        auto& share = shares[symbol];
        const double inclusive = percents.front();
        const double self = percents.size() > 1 ? percents[1] : percents.front();
        share.first = std::max(share.first, inclusive);
        share.second += self;
    }
    if (shares.empty()) {
        return runtime_error(
            "perf recorded no samples (is the probe too short, or perf not "
            "allowed to sample it? see perf_event_paranoid)");
    }
    profile.total = event_count > 0 ? event_count : samples > 0 ? samples : 100;
    for (const auto& [symbol, share] : shares) {
        profile.functions[symbol] =
            FunctionCost{share.first / 100 * profile.total, share.second / 100 * profile.total};
    }
    return profile;
}

Result<FlatProfile> parse_callgrind_profile(std::string_view text) {
    FlatProfile profile;
    profile.runs = 1;
    std::map<std::string, std::string, std::less<>> names;  // compressed "(id)" -> name
    // "fn=(12) name" defines id 12, "fn=(12)" refers to it, "fn=name" has none.
    auto resolve = [&](std::string_view value) -> Result<std::string> {
        if (value.starts_with("(")) {
            const auto close = value.find(')');
            if (close == std::string_view::npos) {
                return runtime_error(fmt::format("callgrind: bad name '{}'", value));
            }
            const std::string id(value.substr(0, close + 1));
            std::string rest = trim(value.substr(close + 1));
            if (!rest.empty()) {
                names[id] = rest;
                return rest;
            }
            auto it = names.find(id);
            if (it == names.end()) {
                return runtime_error(
                    fmt::format("callgrind: name {} used before it is defined", id));
            }
            return it->second;
        }
        return trim(value);
    };
    std::size_t positions = 1;  // "positions: line" (the default)
    bool seen_events = false;
    std::string fn;
    std::string cfn;
    bool call_pending = false;
    double self_total = 0;
    std::map<std::string, double> self_cost;
    std::map<std::string, double> inclusive;
    for (const auto& raw : split_lines(text)) {
        const std::string_view line(raw);
        if (line.empty() || line.starts_with("#")) {
            continue;
        }
        const char c = line.front();
        const bool cost_line =
            std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '*';
        if (!cost_line) {
            if (line.starts_with("positions:")) {
                std::size_t pos = 10;
                positions = 0;
                while (!next_token(line, pos).empty()) {
                    ++positions;
                }
            } else if (line.starts_with("events:")) {
                seen_events = true;
            } else if (line.starts_with("fn=")) {
                auto name = resolve(line.substr(3));
                if (!name) {
                    return std::unexpected(name.error());
                }
                fn = *name;
            } else if (line.starts_with("cfn=")) {
                auto name = resolve(line.substr(4));
                if (!name) {
                    return std::unexpected(name.error());
                }
                cfn = *name;
            } else if (line.starts_with("calls=")) {
                call_pending = true;
            }
            continue;  // fl=, fi=, ob=, jump=, summary:, … carry no function cost
        }
        std::size_t pos = 0;
        for (std::size_t i = 0; i < positions; ++i) {
            next_token(line, pos);
        }
        const std::string_view first_event = next_token(line, pos);
        double cost = 0;
        if (!first_event.empty() && !parse_double(first_event, cost)) {
            return runtime_error(
                fmt::format("callgrind: unexpected cost line '{}'", one_line(line)));
        }
        if (call_pending) {
            call_pending = false;
            if (cfn != fn) {
                inclusive[fn] += cost;
            }
            continue;
        }
        self_cost[fn] += cost;
        inclusive[fn] += cost;
        self_total += cost;
    }
    if (!seen_events || self_total <= 0) {
        return runtime_error(
            "not a callgrind profile, or an empty one (no `events:` line or no cost)");
    }
    profile.total = self_total;
    for (const auto& [name, cost] : inclusive) {
        profile.functions[name] = FunctionCost{cost, self_cost[name]};
    }
    return profile;
}

Result<FlatProfile> parse_folded_stacks(std::string_view text) {
    FlatProfile profile;
    profile.runs = 1;
    std::size_t number = 0;
    for (const auto& raw : split_lines(text)) {
        ++number;
        const std::string line = trim(raw);
        if (line.empty()) {
            continue;
        }
        const auto space = line.find_last_of(" \t");
        double count = 0;
        if (space == std::string::npos || !parse_double(line.substr(space + 1), count) ||
            count < 0) {
            return runtime_error(
                fmt::format("folded stacks, line {}: expected \"outer;inner;leaf COUNT\", got '{}'",
                            number, line.size() > 80 ? line.substr(0, 80) + "…" : line));
        }
        const std::string stack = trim(line.substr(0, space));
        std::set<std::string> seen;
        std::string leaf;
        std::size_t start = 0;
        while (start <= stack.size()) {
            const auto end = std::min(stack.find(';', start), stack.size());
            std::string frame = stack.substr(start, end - start);
            if (!frame.empty()) {
                if (seen.insert(frame).second) {
                    profile.functions[frame].inclusive += count;
                }
                leaf = frame;
            }
            start = end + 1;
        }
        if (!leaf.empty()) {
            profile.functions[leaf].self += count;
        }
        profile.total += count;
    }
    if (profile.total <= 0) {
        return runtime_error(
            "the profile command printed no stacks (expected folded stacks, "
            "\"outer;inner;leaf COUNT\" per line, on stdout)");
    }
    return profile;
}

ProfileDiff diff_profiles(const FlatProfile& parent, const FlatProfile& culprit, std::size_t top) {
    constexpr double k_min_share = 0.001;
    constexpr double k_min_change = 0.0005;  // 0.05 points: below, a table shows "+0.0"
    ProfileDiff diff;
    auto per_run = [](const FlatProfile& p) { return p.total / std::max(1, p.runs); };
    if (per_run(parent) > 0) {
        diff.total_change = per_run(culprit) / per_run(parent) - 1;
    }
    auto share = [](const FlatProfile& p, double cost) { return p.total > 0 ? cost / p.total : 0; };
    for (const auto& [name, cost] : culprit.functions) {
        if (is_address(name)) {
            continue;
        }
        FunctionChange change;
        change.function = name;
        change.culprit_share = share(culprit, cost.inclusive);
        change.culprit_self = share(culprit, cost.self);
        auto it = parent.functions.find(name);
        if (it == parent.functions.end()) {
            if (change.culprit_share >= k_min_share) {
                diff.appeared.push_back(change);
            }
            continue;
        }
        change.parent_share = share(parent, it->second.inclusive);
        change.parent_self = share(parent, it->second.self);
        if (std::max(change.parent_share, change.culprit_share) >= k_min_share &&
            change.change() >= k_min_change) {
            diff.grew.push_back(change);
        }
    }
    auto by_change = [](const FunctionChange& a, const FunctionChange& b) {
        return a.change() != b.change() ? a.change() > b.change() : a.function < b.function;
    };
    std::sort(diff.grew.begin(), diff.grew.end(), by_change);
    std::sort(diff.appeared.begin(), diff.appeared.end(), by_change);
    if (diff.grew.size() > top) {
        diff.grew.resize(top);
    }
    if (diff.appeared.size() > top) {
        diff.appeared.resize(top);
    }
    return diff;
}

std::string short_function_name(std::string_view name) {
    constexpr std::string_view k_anonymous = "(anonymous namespace)";
    std::string out;
    std::size_t i = 0;
    while (i < name.size()) {
        const char c = name[i];
        if (c != '<' && c != '(') {
            out += c;
            ++i;
            continue;
        }
        if (out.ends_with("operator")) {
            // The operator's own symbol: operator()(…), operator<, operator<<=, …
            if (c == '(' && i + 1 < name.size() && name[i + 1] == ')') {
                out += "()";
                i += 2;
                continue;
            }
            if (c == '<') {
                std::size_t j = i;
                while (j < name.size() && (name[j] == '<' || name[j] == '=')) {
                    ++j;
                }
                out.append(name.substr(i, j - i));
                i = j;
                continue;
            }
        }
        if (name.substr(i).starts_with(k_anonymous)) {
            out += k_anonymous;
            i += k_anonymous.size();
            continue;
        }
        const char close = c == '<' ? '>' : ')';
        int depth = 0;
        std::size_t j = i;
        for (; j < name.size(); ++j) {
            if (name[j] == c) {
                ++depth;
            } else if (name[j] == close && --depth == 0) {
                break;
            }
        }
        if (j >= name.size()) {
            out.append(name.substr(i));  // unbalanced: not a name we understand
            break;
        }
        out += c;
        if (j > i + 1) {
            out += "…";
        }
        out += close;
        i = j + 1;
    }
    for (std::size_t at; (at = out.find("[abi:cxx11]")) != std::string::npos;) {
        out.erase(at, 11);
    }
    for (bool trimmed = true; trimmed;) {
        trimmed = false;
        for (std::string_view suffix : {" const", " volatile", " &&", " &", " noexcept"}) {
            if (out.ends_with(suffix)) {
                out.resize(out.size() - suffix.size());
                trimmed = true;
            }
        }
    }
    // The return type: everything up to the last space outside brackets
    // (but "operator new" and "operator bool" keep theirs).
    int depth = 0;
    std::size_t cut = std::string::npos;
    for (std::size_t k = 0; k < out.size(); ++k) {
        const char ch = out[k];
        if (ch == '(' || ch == '<' || ch == '{' || ch == '[') {
            ++depth;
        } else if (ch == ')' || ch == '>' || ch == '}' || ch == ']') {
            --depth;
        } else if (ch == ' ' && depth == 0) {
            const std::string_view before = std::string_view(out).substr(0, k);
            const auto separator = before.find_last_of(": ");
            const std::string_view token =
                separator == std::string_view::npos ? before : before.substr(separator + 1);
            if (!token.starts_with("operator")) {
                cut = k;
            }
        }
    }
    if (cut != std::string::npos) {
        out.erase(0, cut + 1);
    }
    if (out.ends_with("(…)")) {
        out.resize(out.size() - std::string_view("(…)").size());
    } else if (out.ends_with("()") && !out.ends_with("operator()")) {
        out.resize(out.size() - 2);
    }
    return out.empty() ? std::string(name) : out;
}

}  // namespace perfbisect
