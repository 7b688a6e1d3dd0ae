// Config loading: the only translation unit that includes toml11.
#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml.hpp>

#include "config/placeholders.hpp"
#include "config/toml_text.hpp"
#include "probes/metric.hpp"
#include "util/text.hpp"

namespace perfbisect {

std::string Command::display() const {
    if (shell) {
        return words.empty() ? std::string() : words.front();
    }
    std::string out;
    for (const auto& word : words) {
        if (!out.empty()) {
            out += ' ';
        }
        const bool plain = !word.empty() && word.find_first_of(" \t'\"\\$`") == std::string::npos;
        out += plain ? word : shell_quote(word);
    }
    return out;
}

std::vector<std::string> probe_metric_texts(const ProbeConfig& probe) {
    std::vector<std::string> texts{probe.metric};
    for (const auto& text : probe.metrics) {
        if (std::find(texts.begin(), texts.end(), text) == texts.end()) {
            texts.push_back(text);
        }
    }
    return texts;
}

const char* to_string(Direction direction) {
    return direction == Direction::lower_is_better ? "lower" : "higher";
}

const char* to_string(ProfileTool tool) {
    switch (tool) {
        case ProfileTool::perf: return "perf";
        case ProfileTool::callgrind: return "callgrind";
        case ProfileTool::command: return "command";
        default: return "none";
    }
}

int ProfileConfig::effective_runs() const {
    if (runs > 0) {
        return runs;
    }
    return tool == ProfileTool::perf ? 5 : 1;
}

std::string Config::decision_unit() const {
    auto metric = parse_metric(probe.metric);
    const std::string own = metric ? metric->unit() : std::string();
    return own.empty() ? probe.unit : own;
}

const char* to_string(BuildStrategy strategy) {
    switch (strategy) {
        case BuildStrategy::clean: return "clean";
        case BuildStrategy::fetch: return "fetch";
        default: return "incremental";
    }
}

const char* to_string(ReuseScope scope) {
    switch (scope) {
        case ReuseScope::any_machine: return "any-machine";
        case ReuseScope::none: return "none";
        default: return "same-machine";
    }
}

const char* to_string(ExecutorKind kind) {
    return kind == ExecutorKind::slurm ? "slurm" : "local";
}

const char* to_string(NodeBlocking blocking) {
    switch (blocking) {
        case NodeBlocking::full: return "full";
        case NodeBlocking::rotate: return "rotate";
        default: return "off";
    }
}

Result<std::uint64_t> parse_size(const std::string& text) {
    const std::string input = trim(text);
    char* end = nullptr;
    const double number = std::strtod(input.c_str(), &end);
    std::string unit = trim(std::string(end));
    for (auto& c : unit) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (unit.ends_with("IB")) {
        unit = unit.substr(0, unit.size() - 2);
    } else if (unit.size() > 1 && unit.back() == 'B') {
        unit.pop_back();
    }
    double scale = 0;
    if (unit.empty() || unit == "B") {
        scale = 1;
    } else if (unit == "K") {
        scale = 1024.0;
    } else if (unit == "M") {
        scale = 1024.0 * 1024;
    } else if (unit == "G") {
        scale = 1024.0 * 1024 * 1024;
    } else if (unit == "T") {
        scale = 1024.0 * 1024 * 1024 * 1024;
    }
    if (input.empty() || end == input.c_str() || scale == 0 || !std::isfinite(number) ||
        number < 0) {
        return usage_error(fmt::format(
            "invalid size '{}' (write e.g. \"500M\", \"10G\" or a number of bytes)", text));
    }
    return static_cast<std::uint64_t>(number * scale);
}

Result<Seconds> parse_duration(const std::string& text) {
    const std::string input = trim(text);
    if (input.empty()) {
        return usage_error("empty duration (write e.g. \"90s\", \"20m\" or \"1h30m\")");
    }
    double total = 0;
    std::size_t i = 0;
    bool any = false;
    while (i < input.size()) {
        std::size_t end = i;
        while (end < input.size() && (std::isdigit(static_cast<unsigned char>(input[end])) ||
                                      input[end] == '.')) {
            ++end;
        }
        if (end == i) {
            return usage_error(fmt::format(
                "invalid duration '{}' (write e.g. \"90s\", \"20m\", \"1h30m\" or \"500ms\")",
                input));
        }
        const double number = std::strtod(input.substr(i, end - i).c_str(), nullptr);
        std::size_t unit_end = end;
        while (unit_end < input.size() && std::isalpha(static_cast<unsigned char>(input[unit_end]))) {
            ++unit_end;
        }
        const std::string unit = input.substr(end, unit_end - end);
        double scale = 0;
        if (unit == "s" || (unit.empty() && !any && unit_end == input.size())) {
            scale = 1;  // seconds, or a bare number: seconds too
        } else if (unit == "ms") {
            scale = 0.001;
        } else if (unit == "m" || unit == "min") {
            scale = 60;
        } else if (unit == "h") {
            scale = 3600;
        } else {
            return usage_error(fmt::format(
                "invalid duration '{}' (units are ms, s, m, h; e.g. \"90s\", \"1h30m\")", input));
        }
        total += number * scale;
        any = true;
        i = unit_end;
    }
    if (!std::isfinite(total) || total <= 0) {
        return usage_error(fmt::format("duration '{}' must be positive", input));
    }
    return Seconds(total);
}

Result<double> parse_fraction(const std::string& text) {
    std::string input = trim(text);
    bool percent = false;
    if (!input.empty() && input.back() == '%') {
        percent = true;
        input = trim(input.substr(0, input.size() - 1));
    }
    char* end = nullptr;
    const double value = std::strtod(input.c_str(), &end);
    if (input.empty() || end != input.c_str() + input.size() || !std::isfinite(value)) {
        return usage_error(fmt::format("invalid fraction '{}' (write e.g. \"2%\" or 0.02)", text));
    }
    return percent ? value / 100.0 : value;
}

namespace {

enum class UnitKind { time, bytes, count };

struct UnitScale {
    std::string_view name;
    UnitKind kind;
    double scale;  // of the kind's base unit: seconds, bytes, one
};

constexpr double k_kib = 1024.0;
// [executor] nodes: one thread and one Slurm job each; more is a typo.
constexpr long k_max_nodes = 256;
constexpr UnitScale k_units[] = {
    {"ns", UnitKind::time, 1e-9},         {"us", UnitKind::time, 1e-6},
    {"µs", UnitKind::time, 1e-6},         {"ms", UnitKind::time, 1e-3},
    {"s", UnitKind::time, 1},             {"min", UnitKind::time, 60},
    {"h", UnitKind::time, 3600},          {"B", UnitKind::bytes, 1},
    {"KiB", UnitKind::bytes, k_kib},      {"MiB", UnitKind::bytes, k_kib * k_kib},
    {"GiB", UnitKind::bytes, k_kib * k_kib * k_kib},
    {"KB", UnitKind::bytes, 1e3},         {"kB", UnitKind::bytes, 1e3},
    {"MB", UnitKind::bytes, 1e6},         {"GB", UnitKind::bytes, 1e9},
    {"instructions", UnitKind::count, 1},
};

const UnitScale* find_unit(std::string_view name) {
    for (const auto& unit : k_units) {
        if (unit.name == name) {
            return &unit;
        }
    }
    return nullptr;
}

const char* kind_name(UnitKind kind) {
    switch (kind) {
        case UnitKind::time: return "a time";
        case UnitKind::bytes: return "a size";
        default: return "a count";
    }
}

}  // namespace

Result<double> parse_quantity(const std::string& text, const std::string& unit) {
    const std::string input = trim(text);
    char* end = nullptr;
    const double number = std::strtod(input.c_str(), &end);
    if (input.empty() || end == input.c_str() || !std::isfinite(number)) {
        return usage_error(fmt::format(
            "invalid quantity '{}' (write a number with a unit, e.g. \"120ms\" or \"300MiB\", "
            "or a bare number in the metric's unit)",
            text));
    }
    const std::string suffix = trim(std::string(end));
    if (suffix.empty() || suffix == unit) {
        return number;
    }
    const UnitScale* target = find_unit(unit);
    const std::string unit_name = unit.empty() ? "not known" : "'" + unit + "'";
    const std::string fix =
        unit.empty() ? "set [probe] unit (e.g. unit = \"ms\") or write a bare number in the "
                       "metric's own unit"
                     : fmt::format("write it in {} or as a bare number", unit);
    if (const UnitScale* given = find_unit(suffix)) {
        if (target == nullptr || target->kind != given->kind) {
            return usage_error(fmt::format("'{}' is {} but the metric's unit is {}; {}", text,
                                           kind_name(given->kind), unit_name, fix));
        }
        return number * given->scale / target->scale;
    }
    static const std::map<std::string, int> k_powers = {
        {"k", 1}, {"K", 1}, {"M", 2}, {"G", 3}, {"T", 4}};
    if (auto it = k_powers.find(suffix); it != k_powers.end()) {
        if (target != nullptr && target->kind == UnitKind::bytes) {
            return number * std::pow(k_kib, it->second) / target->scale;
        }
        if (target == nullptr || target->kind == UnitKind::count) {
            return number * std::pow(1000.0, it->second) / (target ? target->scale : 1);
        }
    }
    return usage_error(fmt::format("'{}': unknown or unsuitable unit '{}' for a metric whose unit "
                                   "is {} (units: ns, us, ms, s, min, h; B, KiB, MiB, GiB, KB, "
                                   "MB, GB; k, M, G); {}",
                                   text, suffix, unit_name, fix));
}

namespace {

// Reads one validated config; every problem becomes a usage error that names
// the key and the file.
class ConfigReader {
public:
    explicit ConfigReader(std::string origin) : m_origin(std::move(origin)) {}

    [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
        throw Failure(ErrorKind::usage, fmt::format("{}: {}: {}", m_origin, key, problem));
    }

    // The keys of table that are not in known are errors.
    void check_keys(const toml::value& table, const std::string& prefix,
                    const std::set<std::string>& known) const {
        for (const auto& [key, value] : table.as_table()) {
            if (known.count(key) == 0) {
                std::string list;
                for (const auto& k : known) {
                    list += list.empty() ? "" : ", ";
                    list += k;
                }
                fail(prefix.empty() ? key : fmt::format("{}.{}", prefix, key),
                     fmt::format("unknown key (known keys{}: {})",
                                 prefix.empty() ? "" : " of [" + prefix + "]", list));
            }
        }
    }

    const toml::value* find(const toml::value& table, const std::string& key) const {
        const auto& t = table.as_table();
        auto it = t.find(key);
        return it == t.end() ? nullptr : &it->second;
    }

    std::string string_value(const toml::value& v, const std::string& key) const {
        if (!v.is_string()) {
            fail(key, fmt::format("expected a string, got {}", type_name(v)));
        }
        return v.as_string().str;
    }

    bool bool_value(const toml::value& v, const std::string& key) const {
        if (!v.is_boolean()) {
            fail(key, fmt::format("expected true or false, got {}", type_name(v)));
        }
        return v.as_boolean();
    }

    std::int64_t integer_value(const toml::value& v, const std::string& key) const {
        if (!v.is_integer()) {
            fail(key, fmt::format("expected an integer, got {}", type_name(v)));
        }
        return v.as_integer();
    }

    double number_value(const toml::value& v, const std::string& key) const {
        if (v.is_integer()) {
            return static_cast<double>(v.as_integer());
        }
        if (!v.is_floating()) {
            fail(key, fmt::format("expected a number, got {}", type_name(v)));
        }
        return v.as_floating();
    }

    std::vector<std::string> string_array(const toml::value& v, const std::string& key) const {
        if (!v.is_array()) {
            fail(key, fmt::format("expected an array of strings, got {}", type_name(v)));
        }
        std::vector<std::string> out;
        for (const auto& item : v.as_array()) {
            if (!item.is_string()) {
                fail(key, fmt::format("expected an array of strings, found {}", type_name(item)));
            }
            out.push_back(item.as_string().str);
        }
        return out;
    }

    std::map<std::string, std::string> string_table(const toml::value& v,
                                                    const std::string& key) const {
        if (!v.is_table()) {
            fail(key, fmt::format("expected a table of strings, got {}", type_name(v)));
        }
        std::map<std::string, std::string> out;
        for (const auto& [name, value] : v.as_table()) {
            out[name] = string_value(value, fmt::format("{}.{}", key, name));
        }
        return out;
    }

    Seconds duration_value(const toml::value& v, const std::string& key) const {
        Result<Seconds> parsed = v.is_string()
                                     ? parse_duration(v.as_string().str)
                                     : (v.is_integer() || v.is_floating())
                                           ? parse_duration(fmt::format("{}", number_value(v, key)))
                                           : usage_error("expected a duration like \"90s\"");
        if (!parsed) {
            fail(key, parsed.error().message);
        }
        return *parsed;
    }

    Command command_value(const toml::value& v, const std::string& key,
                          const std::set<std::string>& placeholders) const {
        Command command;
        if (v.is_string()) {
            command.shell = true;
            command.words = {v.as_string().str};
        } else if (v.is_array()) {
            command.words = string_array(v, key);
        } else {
            fail(key, fmt::format("expected a string (run by /bin/sh -c) or an array (argv), got {}",
                                  type_name(v)));
        }
        if (command.empty() || trim(command.words.front()).empty()) {
            fail(key, "the command is empty; give the command to run");
        }
        for (const auto& word : command.words) {
            check_placeholders(word, key, placeholders);
        }
        return command;
    }

    void check_placeholders(const std::string& text, const std::string& key,
                            const std::set<std::string>& placeholders) const {
        for (const auto& name : find_placeholders(text)) {
            if (placeholders.count(name) == 0) {
                std::string list;
                for (const auto& p : placeholders) {
                    list += (list.empty() ? "{" : ", {") + p + "}";
                }
                fail(key, fmt::format("unknown placeholder {{{}}} (available here: {}; write "
                                      "{{{{ and }}}} for literal braces)",
                                      name, list));
            }
        }
    }

    static std::string type_name(const toml::value& v) {
        switch (v.type()) {
            case toml::value_t::boolean: return "a boolean";
            case toml::value_t::integer: return "an integer";
            case toml::value_t::floating: return "a float";
            case toml::value_t::string: return "a string";
            case toml::value_t::array: return "an array";
            case toml::value_t::table: return "a table";
            default: return "a date or time";
        }
    }

private:
    std::string m_origin;
};

const toml::value* section(const ConfigReader& reader, const toml::value& root,
                           const std::string& name) {
    const toml::value* v = reader.find(root, name);
    if (v != nullptr && !v->is_table()) {
        reader.fail(name, "expected a table, e.g. [" + name + "]");
    }
    return v;
}

void parse_profile(const ConfigReader& r, const toml::value& root, Config& config,
                   const std::set<std::string>& placeholders) {
    const toml::value* v = r.find(root, "profile");
    if (v == nullptr) {
        return;
    }
    auto tool_named = [&](const std::string& name, const std::string& key) {
        if (name == "perf") return ProfileTool::perf;
        if (name == "callgrind") return ProfileTool::callgrind;
        r.fail(key, fmt::format("'{}' is not a profiler (use \"perf\" or \"callgrind\", or a "
                                "[profile] table with a `command` that prints folded stacks)",
                                name));
    };
    auto& profile = config.profile;
    if (v->is_string()) {
        profile.tool = tool_named(v->as_string().str, "profile");
        return;
    }
    if (!v->is_table()) {
        r.fail("profile", "expected \"perf\", \"callgrind\" or a table [profile]");
    }
    r.check_keys(*v, "profile", {"tool", "command", "runs", "frequency", "timeout", "top"});
    const auto* tool = r.find(*v, "tool");
    const auto* command = r.find(*v, "command");
    if (tool != nullptr && command != nullptr) {
        r.fail("profile.command", "give either `tool` (perf, callgrind) or `command`, not both");
    }
    if (tool != nullptr) {
        profile.tool = tool_named(r.string_value(*tool, "profile.tool"), "profile.tool");
    } else if (command != nullptr) {
        profile.tool = ProfileTool::command;
        profile.command = r.command_value(*command, "profile.command", placeholders);
    } else {
        r.fail("profile", "needs `tool = \"perf\"` (or \"callgrind\") or a `command` that prints "
                          "folded stacks");
    }
    auto bounded = [&](const char* key, int low, int high, int& target) {
        if (const auto* value = r.find(*v, key)) {
            const auto n = r.integer_value(*value, std::string("profile.") + key);
            if (n < low || n > high) {
                r.fail(std::string("profile.") + key,
                       fmt::format("must be between {} and {}", low, high));
            }
            target = static_cast<int>(n);
        }
    };
    bounded("runs", 1, 100, profile.runs);
    bounded("frequency", 1, 100000, profile.frequency);
    bounded("top", 1, 1000, profile.top);
    if (const auto* value = r.find(*v, "timeout")) {
        profile.timeout = r.duration_value(*value, "profile.timeout");
    }
}

// [executor]: where probe runs execute. Checked against [probe] too: with
// Slurm the probe runs on another node, so what perfbisect measures of the
// process it starts here (srun) is not the benchmark's.
void parse_executor(const ConfigReader& r, const toml::value& root, Config& config,
                    const std::filesystem::path& base_dir) {
    const toml::value* executor = section(r, root, "executor");
    if (executor == nullptr) {
        return;
    }
    r.check_keys(*executor, "executor",
                 {"kind", "partition", "nodes", "blocking", "exclusive", "time_limit", "account",
                  "extra_args", "shared_dir", "build_partition"});
    ExecutorConfig& e = config.executor;
    if (const auto* v = r.find(*executor, "kind")) {
        const std::string kind = r.string_value(*v, "executor.kind");
        if (kind == "local") {
            e.kind = ExecutorKind::local;
        } else if (kind == "slurm") {
            e.kind = ExecutorKind::slurm;
        } else {
            r.fail("executor.kind",
                   fmt::format("'{}' is not an executor (use \"local\" or \"slurm\")", kind));
        }
    }
    if (!e.slurm()) {
        for (const auto& [key, value] : executor->as_table()) {
            if (key != "kind") {
                r.fail("executor." + key, "only used with kind = \"slurm\"; remove it or set kind");
            }
        }
        return;
    }
    // A Slurm name (partition, account): one word that srun cannot take for an option.
    auto slurm_name = [&](const toml::value& v, const std::string& key) {
        std::string name = r.string_value(v, key);
        const bool bad = name.empty() || name.front() == '-' ||
                         std::any_of(name.begin(), name.end(), [](unsigned char c) {
                             return std::isspace(c) != 0 || std::iscntrl(c) != 0;
                         });
        if (bad) {
            r.fail(key,
                   fmt::format("'{}' is not a Slurm name (one word, not starting with '-')", name));
        }
        return name;
    };
    const auto* partition = r.find(*executor, "partition");
    if (partition == nullptr) {
        r.fail(
            "executor.partition",
            "missing; kind = \"slurm\" needs the partition probe jobs run in (`sinfo` lists them)");
    }
    e.partition = slurm_name(*partition, "executor.partition");
    if (const auto* v = r.find(*executor, "nodes")) {
        const auto nodes = r.integer_value(*v, "executor.nodes");
        if (nodes < 1 || nodes > k_max_nodes) {
            r.fail("executor.nodes", fmt::format("must be between 1 and {}", k_max_nodes));
        }
        e.nodes = static_cast<int>(nodes);
    }
    if (const auto* v = r.find(*executor, "blocking")) {
        const std::string blocking = r.string_value(*v, "executor.blocking");
        if (blocking == "off") {
            e.blocking = NodeBlocking::off;
        } else if (blocking == "full") {
            e.blocking = NodeBlocking::full;
        } else if (blocking == "rotate") {
            e.blocking = NodeBlocking::rotate;
        } else {
            r.fail("executor.blocking",
                   fmt::format("'{}' is not a blocking scheme (use \"rotate\", \"full\" or \"off\")",
                               blocking));
        }
    }
    if (const auto* v = r.find(*executor, "exclusive")) {
        e.exclusive = r.bool_value(*v, "executor.exclusive");
    }
    if (const auto* v = r.find(*executor, "time_limit")) {
        e.time_limit = r.duration_value(*v, "executor.time_limit");
        if (e.time_limit.count() < 1) {
            r.fail("executor.time_limit",
                   "must be at least 1s (leave it out for the partition's default)");
        }
    }
    if (const auto* v = r.find(*executor, "account")) {
        e.account = slurm_name(*v, "executor.account");
    }
    if (const auto* v = r.find(*executor, "extra_args")) {
        e.extra_args = r.string_array(*v, "executor.extra_args");
        for (const auto& arg : e.extra_args) {
            if (arg.empty()) {
                r.fail("executor.extra_args", "an empty argument; remove it");
            }
        }
    }
    if (const auto* v = r.find(*executor, "shared_dir")) {
        const std::filesystem::path dir = r.string_value(*v, "executor.shared_dir");
        if (dir.empty()) {
            r.fail("executor.shared_dir",
                   "is empty; give a directory every node sees at the same path");
        }
        e.shared_dir = (dir.is_absolute() ? dir : base_dir / dir).lexically_normal();
    }
    if (const auto* v = r.find(*executor, "build_partition")) {
        e.build_partition = slurm_name(*v, "executor.build_partition");
    }
    for (const auto& metric : probe_metric_texts(config.probe)) {
        if (metric == "wall" || metric == "cpu" || metric == "maxrss") {
            r.fail(metric == config.probe.metric ? "probe.metric" : "probe.metrics",
                   fmt::format("'{}' cannot be measured with [executor] kind = \"slurm\" (it "
                               "would time srun here, not the probe on its node); use a metric "
                               "the probe prints, e.g. regex:, json: or google-benchmark:",
                               metric));
        }
    }
    if (!config.probe.cpus.empty()) {
        r.fail("probe.cpus",
               "cannot pin a probe that runs on another node; remove it and give Slurm's "
               "binding in [executor] extra_args (e.g. \"--cpu-bind=map_cpu:1\")");
    }
}

void parse_gate(const ConfigReader& r, const toml::value& root, Config& config) {
    const toml::value* gate = section(r, root, "gate");
    if (gate == nullptr) {
        return;
    }
    r.check_keys(*gate, "gate", {"max", "min", "max_regression", "baseline", "runs", "metrics"});
    auto threshold = [&](const toml::value& value, const std::string& key,
                         const std::string& unit) {
        Threshold t;
        if (value.is_string()) {
            t.text = value.as_string().str;
            auto parsed = parse_quantity(t.text, unit);
            if (!parsed) {
                r.fail(key, parsed.error().message);
            }
            t.value = *parsed;
        } else {
            t.value = r.number_value(value, key);
            t.text = fmt::format("{}{}", t.value, unit.empty() ? "" : " " + unit);
        }
        return t;
    };
    auto limits = [&](const toml::value& table, const std::string& prefix, MetricLimit& limit) {
        if (const auto* value = r.find(table, "max")) {
            limit.max = threshold(*value, prefix + "max", limit.unit);
        }
        if (const auto* value = r.find(table, "min")) {
            limit.min = threshold(*value, prefix + "min", limit.unit);
        }
        if (limit.max && limit.min && limit.min->value > limit.max->value) {
            r.fail(prefix + "min", fmt::format("{} is above max ({}); nothing could pass",
                                               limit.min->text, limit.max->text));
        }
    };
    MetricLimit decision{config.probe.metric, config.decision_unit(), {}, {}};
    limits(*gate, "gate.", decision);
    if (decision.max || decision.min) {
        config.gate.limits.push_back(decision);
    }
    if (const auto* metrics = r.find(*gate, "metrics")) {
        if (!metrics->is_table()) {
            r.fail("gate.metrics", "expected a table: [gate.metrics] maxrss = { max = \"300MiB\" }");
        }
        const auto known = probe_metric_texts(config.probe);
        for (const auto& [name, value] : metrics->as_table()) {
            const std::string key = "gate.metrics." + name;
            if (std::find(known.begin(), known.end(), name) == known.end()) {
                r.fail(key, "is not one of the metrics the probe records; add it to [probe] "
                            "metrics or fix the name");
            }
            if (!value.is_table()) {
                r.fail(key, "expected a table, e.g. { max = \"300MiB\" }");
            }
            r.check_keys(value, key, {"max", "min"});
            MetricLimit limit;
            limit.metric = name;
            limit.unit = name == config.probe.metric ? config.decision_unit()
                                                      : parse_metric(name)->unit();
            limits(value, key + ".", limit);
            if (!limit.max && !limit.min) {
                r.fail(key, "has neither max nor min");
            }
            config.gate.limits.push_back(limit);
        }
    }
    if (const auto* value = r.find(*gate, "max_regression")) {
        auto fraction = value->is_string()
                            ? parse_fraction(value->as_string().str)
                            : Result<double>(r.number_value(*value, "gate.max_regression"));
        if (!fraction) {
            r.fail("gate.max_regression", fraction.error().message);
        }
        if (*fraction <= 0 || *fraction >= 10) {
            r.fail("gate.max_regression", "must be above 0 (e.g. \"5%\")");
        }
        config.gate.max_regression = *fraction;
    }
    if (const auto* value = r.find(*gate, "baseline")) {
        config.gate.baseline = trim(r.string_value(*value, "gate.baseline"));
        if (config.gate.baseline.empty()) {
            r.fail("gate.baseline", "is empty; give a revision, e.g. \"origin/main\"");
        }
    }
    if (const auto* value = r.find(*gate, "runs")) {
        const auto runs = r.integer_value(*value, "gate.runs");
        if (runs < 1 || runs > 10000) {
            r.fail("gate.runs", "must be between 1 and 10000");
        }
        config.gate.runs = static_cast<int>(runs);
    }
}

}  // namespace

Result<toml::value> parse_toml_text(const std::string& text, const std::string& origin) {
    if (const auto where = not_utf8(text)) {
        return usage_error(fmt::format("{}: not UTF-8 text ({}); save the config as UTF-8",
                                       origin, *where));
    }
    try {
        std::istringstream stream(text);
        return toml::parse(stream, origin);
    } catch (const toml::syntax_error& e) {
        // toml11's messages span several lines; keep the first, which names the problem.
        const auto lines = split_lines(e.what());
        std::string first = lines.empty() ? "" : trim(lines[0]);
        if (first.starts_with("[error] ")) {
            first = first.substr(8);
        }
        // The numbered source line (" 3 | key = ...") tells where.
        std::string line_number;
        for (const auto& line : lines) {
            const std::string t = trim(line);
            const auto bar = t.find(" |");
            if (bar != std::string::npos && bar > 0 &&
                t.find_first_not_of("0123456789") == bar) {
                line_number = t.substr(0, bar);
                break;
            }
        }
        return usage_error(fmt::format("{}{}: invalid TOML: {} (fix the syntax)", origin,
                                       line_number.empty() ? "" : ":" + line_number, first));
    } catch (const std::exception& e) {
        return usage_error(fmt::format("{}: invalid TOML: {}", origin, one_line(e.what())));
    }
}

Result<Config> parse_config(const std::string& text, const std::filesystem::path& base_dir,
                            const std::string& origin) {
    auto parsed = parse_toml_text(text, origin);
    if (!parsed) {
        return std::unexpected(parsed.error());
    }
    const toml::value root = std::move(*parsed);

    try {
        ConfigReader r(origin);
        Config config;
        config.text = text;
        r.check_keys(
            root, "",
            {"repo", "build", "probe", "decide", "budget", "cache", "profile", "gate", "executor"});

        config.repo.path = base_dir;
        if (const auto* repo = section(r, root, "repo")) {
            r.check_keys(*repo, "repo", {"path", "first_parent"});
            if (const auto* v = r.find(*repo, "path")) {
                const std::filesystem::path p = r.string_value(*v, "repo.path");
                config.repo.path = p.is_absolute() ? p : base_dir / p;
            }
            if (const auto* v = r.find(*repo, "first_parent")) {
                config.repo.first_parent = r.bool_value(*v, "repo.first_parent");
            }
        }
        config.repo.path = config.repo.path.lexically_normal();

        const std::set<std::string> build_placeholders = {"commit", "short", "worktree"};
        const auto* build = section(r, root, "build");
        if (build == nullptr) {
            r.fail("build", "missing section [build] with a `command` that builds the program");
        }
        r.check_keys(*build, "build",
                     {"command", "artifacts", "timeout", "env", "strategy", "setup", "fetch",
                      "patches", "ccache"});
        const auto* build_command = r.find(*build, "command");
        if (build_command == nullptr) {
            r.fail("build.command", "missing; give the command that builds one commit");
        }
        config.build.command = r.command_value(*build_command, "build.command", build_placeholders);
        if (const auto* v = r.find(*build, "artifacts")) {
            config.build.artifacts = r.string_array(*v, "build.artifacts");
            for (const auto& artifact : config.build.artifacts) {
                const std::filesystem::path p(artifact);
                if (artifact.empty() || p.is_absolute()) {
                    r.fail("build.artifacts",
                           fmt::format("'{}' must be a path relative to the checkout", artifact));
                }
            }
        }
        if (const auto* v = r.find(*build, "timeout")) {
            config.build.timeout = r.duration_value(*v, "build.timeout");
        }
        if (const auto* v = r.find(*build, "env")) {
            config.build.env = r.string_table(*v, "build.env");
        }

        if (const auto* v = r.find(*build, "strategy")) {
            const std::string strategy = r.string_value(*v, "build.strategy");
            if (strategy == "incremental") {
                config.build.strategy = BuildStrategy::incremental;
            } else if (strategy == "clean") {
                config.build.strategy = BuildStrategy::clean;
            } else if (strategy == "fetch") {
                config.build.strategy = BuildStrategy::fetch;
            } else {
                r.fail("build.strategy",
                       fmt::format("'{}' is not a strategy (use \"incremental\", \"clean\" or "
                                   "\"fetch\")",
                                   strategy));
            }
        }
        if (const auto* v = r.find(*build, "setup")) {
            config.build.setup = r.command_value(*v, "build.setup", build_placeholders);
        }
        if (const auto* v = r.find(*build, "fetch")) {
            config.build.fetch =
                r.command_value(*v, "build.fetch", {"commit", "short", "out"});
        }
        if (config.build.strategy == BuildStrategy::fetch && config.build.fetch.empty()) {
            r.fail("build.fetch",
                   "missing; strategy \"fetch\" needs the command that retrieves a commit's "
                   "artifacts into {out}");
        }
        if (config.build.strategy != BuildStrategy::fetch && !config.build.fetch.empty()) {
            r.fail("build.fetch",
                   fmt::format("is set but strategy is \"{}\"; set strategy = \"fetch\" to use it",
                               to_string(config.build.strategy)));
        }
        if (config.build.strategy == BuildStrategy::fetch && config.build.artifacts.empty()) {
            r.fail("build.artifacts",
                   "strategy \"fetch\" needs the artifacts the fetch command must provide");
        }
        if (const auto* v = r.find(*build, "patches")) {
            for (const auto& name : r.string_array(*v, "build.patches")) {
                const std::filesystem::path p(name);
                const std::filesystem::path file = p.is_absolute() ? p : base_dir / p;
                std::ifstream in(file, std::ios::binary);
                std::ostringstream patch_text;
                patch_text << in.rdbuf();
                if (!in || std::filesystem::is_directory(file)) {
                    r.fail("build.patches",
                           fmt::format("cannot read the patch {} (paths are relative to the "
                                       "config file)",
                                       file.string()));
                }
                if (patch_text.str().find("\n@@ ") == std::string::npos &&
                    !patch_text.str().starts_with("@@ ")) {
                    r.fail("build.patches",
                           fmt::format("{} is not a unified diff (make it with `git diff` or "
                                       "`git format-patch`)",
                                       file.string()));
                }
                config.build.patches.push_back(Patch{name, patch_text.str()});
            }
        }
        if (const auto* v = r.find(*build, "ccache")) {
            config.build.ccache = r.bool_value(*v, "build.ccache");
        }

        const std::set<std::string> probe_placeholders = {"commit", "short", "worktree",
                                                          "artifacts", "out"};
        const auto* probe = section(r, root, "probe");
        if (probe == nullptr) {
            r.fail("probe", "missing section [probe] with the benchmark `command`");
        }
        r.check_keys(*probe, "probe",
                     {"command", "metric", "metrics", "direction", "timeout", "env", "output", "cwd",
                      "cpus", "warmup", "runs_per_sample", "unit"});
        const auto* probe_command = r.find(*probe, "command");
        if (probe_command == nullptr) {
            r.fail("probe.command", "missing; give the benchmark command to run");
        }
        config.probe.command = r.command_value(*probe_command, "probe.command", probe_placeholders);
        if (const auto* v = r.find(*probe, "metric")) {
            config.probe.metric = r.string_value(*v, "probe.metric");
        }
        if (auto metric = parse_metric(config.probe.metric); !metric) {
            r.fail("probe.metric", metric.error().message);
        }
        if (const auto* v = r.find(*probe, "metrics")) {
            config.probe.metrics = r.string_array(*v, "probe.metrics");
            for (const auto& metric_text : config.probe.metrics) {
                if (auto metric = parse_metric(metric_text); !metric) {
                    r.fail("probe.metrics", metric.error().message);
                }
            }
        }
        {
            // One run can be under one tool: valgrind or perf, not both.
            bool callgrind = false;
            bool perf_stat = false;
            for (const auto& metric_text : probe_metric_texts(config.probe)) {
                callgrind = callgrind || metric_text == "callgrind";
                perf_stat = perf_stat || metric_text.starts_with("perf-stat:");
            }
            if (callgrind && perf_stat) {
                r.fail("probe.metrics",
                       "callgrind and perf-stat cannot be measured in the same run (the probe runs "
                       "under valgrind or under perf); choose one");
            }
        }
        if (const auto* v = r.find(*probe, "output")) {
            config.probe.output = r.string_value(*v, "probe.output");
            r.check_placeholders(config.probe.output, "probe.output", probe_placeholders);
            if (trim(config.probe.output).empty()) {
                r.fail("probe.output", "is empty; give the file the probe writes, e.g. "
                                       "\"{out}/result.json\", or remove the key to read stdout");
            }
        }
        if (const auto* v = r.find(*probe, "cwd")) {
            config.probe.cwd = r.string_value(*v, "probe.cwd");
            r.check_placeholders(config.probe.cwd, "probe.cwd", probe_placeholders);
        }
        if (const auto* v = r.find(*probe, "cpus")) {
            if (!v->is_array()) {
                r.fail("probe.cpus", "expected an array of CPU numbers, e.g. cpus = [1]");
            }
            for (const auto& item : v->as_array()) {
                const auto cpu = r.integer_value(item, "probe.cpus");
                if (cpu < 0 || cpu >= 1024) {
                    r.fail("probe.cpus", fmt::format("{} is not a CPU number (0 to 1023, as "
                                                     "listed by `lscpu`)",
                                                     cpu));
                }
                config.probe.cpus.push_back(static_cast<int>(cpu));
            }
            if (config.probe.cpus.empty()) {
                r.fail("probe.cpus", "is empty; list the CPUs to pin the probe to, or remove the key");
            }
        }
        if (const auto* v = r.find(*probe, "warmup")) {
            const auto warmup = r.integer_value(*v, "probe.warmup");
            if (warmup < 0 || warmup > 1000) {
                r.fail("probe.warmup", "must be between 0 and 1000");
            }
            config.probe.warmup = static_cast<int>(warmup);
        }
        if (const auto* v = r.find(*probe, "runs_per_sample")) {
            const auto runs = r.integer_value(*v, "probe.runs_per_sample");
            if (runs < 1 || runs > 100000) {
                r.fail("probe.runs_per_sample", "must be between 1 and 100000");
            }
            config.probe.runs_per_sample = static_cast<int>(runs);
        }
        if (const auto* v = r.find(*probe, "direction")) {
            const std::string direction = r.string_value(*v, "probe.direction");
            if (direction == "lower") {
                config.probe.direction = Direction::lower_is_better;
            } else if (direction == "higher") {
                config.probe.direction = Direction::higher_is_better;
            } else {
                r.fail("probe.direction",
                       fmt::format("'{}' is not a direction (use \"lower\" when lower is better, "
                                   "\"higher\" for throughput)",
                                   direction));
            }
        }
        if (const auto* v = r.find(*probe, "timeout")) {
            config.probe.timeout = r.duration_value(*v, "probe.timeout");
        }
        if (const auto* v = r.find(*probe, "env")) {
            config.probe.env = r.string_table(*v, "probe.env");
        }
        if (const auto* v = r.find(*probe, "unit")) {
            config.probe.unit = trim(r.string_value(*v, "probe.unit"));
            const auto metric = parse_metric(config.probe.metric);
            if (config.probe.unit.empty()) {
                r.fail("probe.unit", "is empty; give the unit the probe prints, e.g. \"ms\", or "
                                     "remove the key");
            }
            if (metric && !metric->unit().empty() && metric->unit() != config.probe.unit) {
                r.fail("probe.unit",
                       fmt::format("metric '{}' is always in {}; remove the key (it is for "
                                   "metrics whose unit the probe defines: regex, json …)",
                                   config.probe.metric, metric->unit()));
            }
        }

        if (const auto* decide = section(r, root, "decide")) {
            r.check_keys(*decide, "decide",
                         {"min_effect", "samples", "max_samples", "confirm_samples", "alpha"});
            if (const auto* v = r.find(*decide, "min_effect")) {
                auto fraction = v->is_string() ? parse_fraction(v->as_string().str)
                                               : Result<double>(r.number_value(*v, "decide.min_effect"));
                if (!fraction) {
                    r.fail("decide.min_effect", fraction.error().message);
                }
                if (*fraction <= 0 || *fraction >= 10) {
                    r.fail("decide.min_effect", "must be above 0 (e.g. \"2%\")");
                }
                config.decide.min_effect = *fraction;
            }
            auto count = [&](const char* key, int& target) {
                if (const auto* v = r.find(*decide, key)) {
                    const auto value = r.integer_value(*v, std::string("decide.") + key);
                    if (value < 3 || value > 10000) {
                        r.fail(std::string("decide.") + key, "must be between 3 and 10000");
                    }
                    target = static_cast<int>(value);
                }
            };
            count("samples", config.decide.samples);
            count("max_samples", config.decide.max_samples);
            count("confirm_samples", config.decide.confirm_samples);
            if (config.decide.max_samples < config.decide.samples) {
                r.fail("decide.max_samples",
                       fmt::format("{} is below decide.samples ({}); raise it",
                                   config.decide.max_samples, config.decide.samples));
            }
            if (const auto* v = r.find(*decide, "alpha")) {
                const double alpha = r.number_value(*v, "decide.alpha");
                if (!(alpha > 0 && alpha < 0.5)) {
                    r.fail("decide.alpha", "must be between 0 and 0.5 (e.g. 0.01)");
                }
                config.decide.alpha = alpha;
            }
        }
        if (const auto* budget = section(r, root, "budget")) {
            r.check_keys(*budget, "budget", {"max_builds", "max_probe_runs", "max_time"});
            if (const auto* v = r.find(*budget, "max_builds")) {
                const auto value = r.integer_value(*v, "budget.max_builds");
                if (value < 2) {
                    r.fail("budget.max_builds", "must be at least 2 (good and bad)");
                }
                config.budget.max_builds = static_cast<int>(value);
            }
            if (const auto* v = r.find(*budget, "max_probe_runs")) {
                const auto value = r.integer_value(*v, "budget.max_probe_runs");
                if (value < 1) {
                    r.fail("budget.max_probe_runs", "must be positive");
                }
                config.budget.max_probe_runs = static_cast<long>(value);
            }
            if (const auto* v = r.find(*budget, "max_time")) {
                config.budget.max_seconds = r.duration_value(*v, "budget.max_time").count();
            }
        }
        if (const auto* cache = section(r, root, "cache")) {
            r.check_keys(*cache, "cache", {"max_artifacts_size", "reuse"});
            if (const auto* v = r.find(*cache, "reuse")) {
                const std::string reuse = r.string_value(*v, "cache.reuse");
                if (reuse == "same-machine") {
                    config.cache.reuse = ReuseScope::same_machine;
                } else if (reuse == "any-machine") {
                    config.cache.reuse = ReuseScope::any_machine;
                } else if (reuse == "none") {
                    config.cache.reuse = ReuseScope::none;
                } else {
                    r.fail("cache.reuse",
                           fmt::format("'{}' is not a reuse scope (use \"same-machine\", "
                                       "\"any-machine\" or \"none\")",
                                       reuse));
                }
            }
            if (const auto* v = r.find(*cache, "max_artifacts_size")) {
                auto size = v->is_integer() ? Result<std::uint64_t>(static_cast<std::uint64_t>(
                                                  std::max<std::int64_t>(0, v->as_integer())))
                                            : parse_size(r.string_value(*v, "cache.max_artifacts_size"));
                if (!size) {
                    r.fail("cache.max_artifacts_size", size.error().message);
                }
                if (*size == 0) {
                    r.fail("cache.max_artifacts_size",
                           "must be above 0 (leave it out for no limit)");
                }
                config.cache.max_artifacts_size = *size;
            }
        }
        parse_profile(r, root, config, probe_placeholders);
        parse_gate(r, root, config);
        parse_executor(r, root, config, base_dir);
        return config;
    } catch (const Failure& failure) {
        return std::unexpected(failure.error());
    }
}

Result<Config> load_config(const std::filesystem::path& file) {
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(file, ec);
    std::ifstream in(absolute, std::ios::binary);
    if (!in || std::filesystem::is_directory(absolute, ec)) {
        return usage_error(fmt::format("cannot read config file {} (check the --config path)",
                                       file.string()));
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    auto config = parse_config(buffer.str(), absolute.parent_path(), file.string());
    if (config) {
        config->file = absolute;
    }
    return config;
}

std::string Config::build_fingerprint() const {
    std::string key = "build\n" + std::to_string(build.command.shell);
    for (const auto& word : build.command.words) {
        key += "\n" + word;
    }
    for (const auto& artifact : build.artifacts) {
        key += "\nartifact " + artifact;
    }
    for (const auto& [name, value] : build.env) {
        key += fmt::format("\nenv {}={}", name, value);
    }
    // Appended only when set, so fingerprints of configs without them stay as they were.
    if (!build.setup.empty()) {
        key += "\nsetup " + std::to_string(build.setup.shell);
        for (const auto& word : build.setup.words) {
            key += "\n" + word;
        }
    }
    for (const auto& patch : build.patches) {
        key += "\npatch " + fnv1a_hex(patch.text);
    }
    return fnv1a_hex(key);
}

std::string Config::probe_fingerprint() const {
    std::string key = "probe\n" + std::to_string(probe.command.shell);
    for (const auto& word : probe.command.words) {
        key += "\n" + word;
    }
    key += "\nmetric " + probe.metric;
    for (const auto& [name, value] : probe.env) {
        key += fmt::format("\nenv {}={}", name, value);
    }
    // Keys added later only enter the key when set, so configs without them
    // keep their fingerprint (and their samples stay reusable).
    if (!probe.output.empty()) {
        key += "\noutput " + probe.output;
    }
    if (!probe.cwd.empty()) {
        key += "\ncwd " + probe.cwd;
    }
    for (int cpu : probe.cpus) {
        key += fmt::format("\ncpu {}", cpu);
    }
    if (probe.warmup != 0) {
        key += fmt::format("\nwarmup {}", probe.warmup);
    }
    if (probe.runs_per_sample != 1) {
        key += fmt::format("\nruns_per_sample {}", probe.runs_per_sample);
    }
    // Samples measured on a cluster's nodes are not comparable with this
    // machine's: the partition is where they come from.
    if (executor.slurm()) {
        key += "\nslurm " + executor.partition;
        for (const auto& arg : executor.extra_args) {
            key += "\nslurm-arg " + arg;
        }
    }
    return fnv1a_hex(key);
}

}  // namespace perfbisect
