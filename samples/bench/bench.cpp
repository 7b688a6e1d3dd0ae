// bench: a small access-log analyser used as the perfbisect demo workload.
//
// It generates a deterministic synthetic access log in memory and, after an untimed warm-up,
// times the analysis: splitting the log into lines, tokenizing each record into key=value
// fields, aggregating per-user totals and word counts from the free-text message, and ranking
// users, words and resources.
//
// Output contract (relied on by perfbisect.toml):
//   stdout: exactly one line, "time_ms: <milliseconds with 3 decimals>"
//   stderr: a short summary and a checksum, so the work cannot be optimised away
//
// Usage: bench [--quick]    (--quick runs a 10x smaller input)

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t kFullLines = 135000;
constexpr std::uint64_t kSeed = 0x5eed1234abcdULL;

// SplitMix64: tiny, fast and identical on every platform.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

    // Skewed pick: small indices are much more likely, like word frequencies in real text.
    std::size_t skewed(std::size_t n) {
        std::size_t a = below(n);
        std::size_t b = below(n);
        return std::min(a, b) * std::min(a, b) / n;
    }

private:
    std::uint64_t state_;
};

const char* const kWords[] = {
    "request",   "served",   "from",        "cache",       "upstream",     "timeout",  "retry",
    "client",    "closed",   "connection",  "while",       "reading",      "response", "header",
    "body",      "too",      "large",       "invalid",     "token",        "session",  "expired",
    "user",      "login",    "failed",      "succeeded",   "rate",         "limit",    "exceeded",
    "backend",   "pool",     "exhausted",   "slow",        "query",        "took",     "longer",
    "than",      "expected", "index",       "rebuilt",     "shard",        "moved",    "replica",
    "lagging",   "behind",   "primary",     "write",       "acknowledged", "flushed",  "disk",
    "quota",     "warning",  "compaction",  "started",     "finished",     "snapshot", "restored",
    "config",    "reloaded", "certificate", "renewed",     "dns",          "lookup",   "resolved",
    "gateway",   "healthy",  "degraded",    "unavailable", "metrics",      "exported", "trace",
    "sampled",   "dropped",  "queue",       "backlog",     "growing",      "drained",  "worker",
    "restarted", "panic",    "recovered",   "payload",     "checksum",     "mismatch", "ok",
};
constexpr std::size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

const char* const kMethods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"};
const char* const kResources[] = {"users",  "orders", "items",   "search",
                                  "static", "auth",   "reports", "health"};
const int kStatuses[] = {200, 200, 200, 200, 201, 204, 301, 304,
                         400, 401, 403, 404, 429, 500, 502, 503};

std::string generate_log(std::size_t lines) {
    Rng rng(kSeed);
    std::string out;
    out.reserve(lines * 140);
    std::uint64_t ts = 1700000000000ULL;
    for (std::size_t i = 0; i < lines; ++i) {
        ts += 1 + rng.below(40);
        out += "ts=";
        out += std::to_string(ts);
        out += " user=u";
        out += std::to_string(rng.skewed(5000));
        out += " method=";
        out += kMethods[rng.below(sizeof(kMethods) / sizeof(kMethods[0]))];
        out += " path=/api/v2/";
        out += kResources[rng.below(sizeof(kResources) / sizeof(kResources[0]))];
        out += '/';
        out += std::to_string(rng.below(100000));
        out += " status=";
        out += std::to_string(kStatuses[rng.below(sizeof(kStatuses) / sizeof(kStatuses[0]))]);
        out += " bytes=";
        out += std::to_string(rng.below(1 << 20));
        out += " msg=\"";
        std::size_t words = 4 + rng.below(9);
        for (std::size_t w = 0; w < words; ++w) {
            if (w > 0) {
                out += ' ';
            }
            out += kWords[rng.skewed(kWordCount)];
        }
        out += "\"\n";
    }
    return out;
}

struct Record {
    std::uint64_t ts = 0;
    std::string_view user;
    std::string_view method;
    std::string_view path;
    int status = 0;
    std::uint64_t bytes = 0;
    std::string_view msg;
};

bool parse_uint(std::string_view text, std::uint64_t& out) {
    if (text.empty()) {
        return false;
    }
    std::uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = value;
    return true;
}

// Tokenizes one "key=value key=value ..." record. Values may be double-quoted.
bool parse_record(std::string_view line, Record& rec) {
    std::size_t pos = 0;
    int fields = 0;
    while (pos < line.size()) {
        while (pos < line.size() && line[pos] == ' ') {
            ++pos;
        }
        std::size_t eq = line.find('=', pos);
        if (eq == std::string_view::npos) {
            return false;
        }
        std::string_view key = line.substr(pos, eq - pos);
        std::size_t value_begin = eq + 1;
        std::size_t value_end;
        if (value_begin < line.size() && line[value_begin] == '"') {
            ++value_begin;
            value_end = line.find('"', value_begin);
            if (value_end == std::string_view::npos) {
                return false;
            }
            pos = value_end + 1;
        } else {
            value_end = line.find(' ', value_begin);
            if (value_end == std::string_view::npos) {
                value_end = line.size();
            }
            pos = value_end;
        }
        std::string_view value = line.substr(value_begin, value_end - value_begin);

        std::uint64_t number = 0;
        if (key == "ts") {
            if (!parse_uint(value, rec.ts)) {
                return false;
            }
        } else if (key == "user") {
            rec.user = value;
        } else if (key == "method") {
            rec.method = value;
        } else if (key == "path") {
            rec.path = value;
        } else if (key == "status") {
            if (!parse_uint(value, number) || number < 100 || number > 599) {
                return false;
            }
            rec.status = static_cast<int>(number);
        } else if (key == "bytes") {
            if (!parse_uint(value, rec.bytes)) {
                return false;
            }
        } else if (key == "msg") {
            rec.msg = value;
        } else {
            return false;
        }
        ++fields;
    }
    return fields == 7;
}

struct UserTotals {
    std::uint64_t requests = 0;
    std::uint64_t bytes = 0;
    std::uint64_t errors = 0;
};

struct Stats {
    std::uint64_t records = 0;
    std::uint64_t malformed = 0;
    std::uint64_t bytes = 0;
    std::uint64_t status_classes[6] = {};
    std::unordered_map<std::string_view, UserTotals> users;
    std::unordered_map<std::string_view, std::uint64_t> resources;
    std::unordered_map<std::string_view, std::uint64_t> words;
};

std::string_view resource_of(std::string_view path) {
    // "/api/v2/<resource>/<id>" -> "<resource>"
    std::size_t slash = 0;
    for (int i = 0; i < 3 && slash != std::string_view::npos; ++i) {
        slash = path.find('/', slash + 1);
    }
    if (slash == std::string_view::npos) {
        return path;
    }
    std::size_t begin = path.rfind('/', slash - 1) + 1;
    return path.substr(begin, slash - begin);
}

void accumulate(const Record& rec, Stats& stats) {
    ++stats.records;
    stats.bytes += rec.bytes;
    ++stats.status_classes[rec.status / 100];

    UserTotals& user = stats.users[rec.user];
    ++user.requests;
    user.bytes += rec.bytes;
    if (rec.status >= 400) {
        ++user.errors;
    }
    ++stats.resources[resource_of(rec.path)];

    std::size_t pos = 0;
    while (pos < rec.msg.size()) {
        std::size_t end = rec.msg.find(' ', pos);
        if (end == std::string_view::npos) {
            end = rec.msg.size();
        }
        if (end > pos) {
            ++stats.words[rec.msg.substr(pos, end - pos)];
        }
        pos = end + 1;
    }
}

template <typename Map, typename Score>
std::vector<std::pair<std::string_view, std::uint64_t>> top_n(const Map& map, std::size_t n,
                                                              Score score) {
    std::vector<std::pair<std::string_view, std::uint64_t>> items;
    items.reserve(map.size());
    for (const auto& [key, value] : map) {
        items.emplace_back(key, score(value));
    }
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (items.size() > n) {
        items.resize(n);
    }
    return items;
}

std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {
    for (char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

std::uint64_t mix(std::uint64_t hash, std::uint64_t value) {
    return (hash ^ value) * 0x100000001b3ULL;
}

struct Summary {
    Stats stats;
    std::vector<std::pair<std::string_view, std::uint64_t>> top_users;
    std::vector<std::pair<std::string_view, std::uint64_t>> top_words;
    std::vector<std::pair<std::string_view, std::uint64_t>> top_resources;
    std::uint64_t checksum = 0;
};

Summary analyse(std::string_view text) {
    Summary summary;
    Stats& stats = summary.stats;
    stats.users.reserve(8192);
    stats.words.reserve(256);

    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line(text.data() + start, end - start);
        Record rec;
        if (parse_record(line, rec)) {
            accumulate(rec, stats);
        } else {
            ++stats.malformed;
        }
        start = end + 1;
    }

    summary.top_users = top_n(stats.users, 10, [](const UserTotals& t) { return t.bytes; });
    summary.top_words = top_n(stats.words, 20, [](const std::uint64_t& c) { return c; });
    summary.top_resources = top_n(stats.resources, 8, [](const std::uint64_t& c) { return c; });

    std::uint64_t hash = 0xcbf29ce484222325ULL;
    hash = mix(hash, stats.records);
    hash = mix(hash, stats.malformed);
    hash = mix(hash, stats.bytes);
    for (std::uint64_t count : stats.status_classes) {
        hash = mix(hash, count);
    }
    for (const auto* list : {&summary.top_users, &summary.top_words, &summary.top_resources}) {
        for (const auto& [name, score] : *list) {
            hash = mix(fnv1a(hash, name), score);
        }
    }
    summary.checksum = hash;
    return summary;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t lines = kFullLines;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            lines = kFullLines / 10;
        } else {
            std::cerr << "usage: bench [--quick]\n";
            return 2;
        }
    }

    const std::string text = generate_log(lines);

    // Untimed warm-up. Counting the lines reads the whole input once, so that the timed part does
    // not pay for the first touch of freshly generated memory, and analysing the first tenth warms
    // up the allocator and the branch predictors.
    const auto input_lines = std::count(text.begin(), text.end(), '\n');
    const std::string_view head(text.data(), text.find('\n', text.size() / 10) + 1);
    const Summary warm_up = analyse(head);
    std::cerr << "input: " << input_lines << " lines, " << text.size() << " bytes (warm-up "
              << warm_up.stats.records << " records)\n";

    const auto started = std::chrono::steady_clock::now();
    const Summary summary = analyse(text);
    const auto finished = std::chrono::steady_clock::now();
    const double elapsed_ms = std::chrono::duration<double, std::milli>(finished - started).count();

    std::cerr << "records: " << summary.stats.records << " (malformed " << summary.stats.malformed
              << ")\n";
    std::cerr << "users: " << summary.stats.users.size()
              << ", top: " << summary.top_users.front().first << '\n';
    std::cerr << "top word: " << summary.top_words.front().first << '\n';
    char checksum[32];
    std::snprintf(checksum, sizeof(checksum), "%016llx",
                  static_cast<unsigned long long>(summary.checksum));
    std::cerr << "checksum: " << checksum << '\n';

    std::printf("time_ms: %.3f\n", elapsed_ms);
    return 0;
}
