// The JSON report (schema_version 1, docs/report-json.md): the only
// translation unit of report/ that includes nlohmann/json.
#include <nlohmann/json.hpp>

#include "report/comparison.hpp"
#include "report/profile_record.hpp"
#include "report/report.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

nlohmann::json number_or_null(const std::optional<double>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json change_json(const FunctionChange& c) {
    return {{"function", c.function},
            {"name", short_function_name(c.function)},
            {"parent_share", c.parent_share},
            {"culprit_share", c.culprit_share},
            {"change", c.change()},
            {"parent_self", c.parent_self},
            {"culprit_self", c.culprit_self}};
}

FunctionChange change_from(const nlohmann::json& j) {
    FunctionChange c;
    c.function = j.at("function").get<std::string>();
    c.parent_share = j.value("parent_share", 0.0);
    c.culprit_share = j.value("culprit_share", 0.0);
    c.parent_self = j.value("parent_self", 0.0);
    c.culprit_self = j.value("culprit_self", 0.0);
    return c;
}

// The profile of a culprit as the report shows it (docs/report-json.md).
nlohmann::json profile_json(const ProfileRecord& p) {
    nlohmann::json grew = nlohmann::json::array();
    for (const auto& c : p.diff.grew) {
        grew.push_back(change_json(c));
    }
    nlohmann::json appeared = nlohmann::json::array();
    for (const auto& c : p.diff.appeared) {
        appeared.push_back(change_json(c));
    }
    return {{"tool", p.tool},
            {"runs", p.runs},
            {"ok", p.ok},
            {"error", p.error},
            {"directory", p.directory},
            {"parent_files", p.parent_files},
            {"culprit_files", p.culprit_files},
            {"total_change", p.diff.total_change},
            {"grew", grew},
            {"appeared", appeared}};
}

nlohmann::json cost_json(const Cost& cost) {
    return {{"builds", cost.builds},
            {"build_seconds", cost.build_seconds},
            {"probe_runs", cost.probe_runs},
            {"samples", cost.samples},
            {"samples_reused", cost.samples_reused},
            {"probe_runs_reused", cost.probe_runs_reused},
            {"wall_seconds", cost.wall_seconds}};
}

}  // namespace

std::string profile_record_json(const ProfileRecord& record) {
    nlohmann::json j = profile_json(record);
    j["culprit"] = record.culprit;
    j["parent"] = record.parent;
    return j.dump();
}

std::optional<ProfileRecord> parse_profile_record(std::string_view text) {
    try {
        const auto j = nlohmann::json::parse(text);
        ProfileRecord r;
        r.culprit = j.at("culprit").get<std::string>();
        r.parent = j.at("parent").get<std::string>();
        r.tool = j.at("tool").get<std::string>();
        r.runs = j.value("runs", 0);
        r.ok = j.at("ok").get<bool>();
        r.error = j.value("error", "");
        r.directory = j.value("directory", "");
        r.parent_files = j.value("parent_files", std::vector<std::string>{});
        r.culprit_files = j.value("culprit_files", std::vector<std::string>{});
        r.diff.total_change = j.value("total_change", 0.0);
        for (const auto& c : j.value("grew", nlohmann::json::array())) {
            r.diff.grew.push_back(change_from(c));
        }
        for (const auto& c : j.value("appeared", nlohmann::json::array())) {
            r.diff.appeared.push_back(change_from(c));
        }
        return r;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

std::string render_json(const SessionReport& r) {
    using nlohmann::json;
    json culprits = json::array();
    for (const auto& c : r.culprits) {
        culprits.push_back({
            {"commit", c.commit.id},
            {"subject", c.commit.subject},
            {"author", c.commit.author},
            {"date", format_utc(c.commit.time)},
            {"parent", c.parent.id},
            {"position", c.evidence.position},
            {"effect", c.evidence.effect},
            {"ci_low", c.evidence.ci_low},
            {"ci_high", c.evidence.ci_high},
            {"p_value", c.evidence.p_value},
            {"confidence", c.evidence.confidence},
            {"share", c.evidence.share},
            {"profile", c.profile ? profile_json(*c.profile) : json(nullptr)},
        });
    }
    json candidates = json::array();
    for (const auto& c : r.candidates) {
        candidates.push_back(c.id);
    }
    json tested = json::array();
    for (const auto& t : r.tested) {
        json metrics = json::object();
        for (const auto& m : t.metrics) {
            metrics[m.metric] = {{"unit", m.unit}, {"median", m.median}, {"values", m.values}};
        }
        tested.push_back({
            {"metrics", metrics},
            {"commit", t.commit.id},
            {"subject", t.commit.subject},
            {"position", t.position},
            {"samples", t.values.size()},
            {"failed_runs", t.failed_runs},
            {"median", number_or_null(t.median)},
            {"verdict", to_string(t.verdict)},
            {"note", t.note},
            {"values", t.values},
        });
    }
    json nodes = json::array();
    for (const auto& n : r.nodes) {
        nodes.push_back({{"node", n.node},
                         {"probe_runs", n.probe_runs},
                         {"samples", n.samples},
                         {"offset", number_or_null(n.offset)}});
    }
    json report = {
        {"schema_version", 1},
        {"session", r.session.id},
        {"status", r.status},
        {"summary", r.summary},
        {"good", r.good.id},
        {"bad", r.bad.id},
        {"good_revision", r.session.good},
        {"bad_revision", r.session.bad},
        {"range_size", r.range_size},
        {"metric", r.metric},
        {"unit", r.unit},
        {"direction", r.direction},
        {"min_effect", r.min_effect},
        {"culprits", culprits},
        {"candidates", candidates},
        {"tested", tested},
        {"cost", cost_json(r.cost)},
        {"nodes", nodes},
        {"created", format_utc(r.session.created)},
        {"updated", format_utc(r.session.updated)},
        {"commands", {{"rerun", r.rerun_command}, {"narrow", r.narrow_command}}},
    };
    return report.dump(2) + "\n";
}

namespace {

nlohmann::json comparison_json(const Comparison& c) {
    using nlohmann::json;
    const SessionReport& r = c.report;
    auto side = [&](std::size_t position, const std::string& revision, const CommitInfo& commit) {
        json out = {{"revision", revision},
                    {"commit", commit.id},
                    {"subject", commit.subject},
                    {"samples", 0},
                    {"median", nullptr},
                    {"values", json::array()}};
        for (const auto& t : r.tested) {
            if (t.position == position) {
                out["samples"] = t.values.size();
                out["median"] = number_or_null(t.median);
                out["values"] = t.values;
            }
        }
        return out;
    };
    json profile = nullptr;
    if (!r.culprits.empty()) {
        if (const auto& first = r.culprits.front().profile) {
            profile = profile_json(*first);
        }
    }
    return {{"schema_version", 1},
            {"kind", "compare"},
            {"session", r.session.id},
            {"verdict", to_string(c.verdict)},
            {"status", r.status},
            {"summary", r.summary},
            {"base", side(0, r.session.good, r.good)},
            {"head", side(r.range_size - 1, r.session.bad, r.bad)},
            {"metric", r.metric},
            {"unit", r.unit},
            {"direction", r.direction},
            {"min_effect", r.min_effect},
            {"effect", c.evidence.effect},
            {"ci_low", c.evidence.ci_low},
            {"ci_high", c.evidence.ci_high},
            {"p_value", c.evidence.p_value},
            {"confidence", c.evidence.confidence},
            {"profile", profile},
            {"cost", cost_json(r.cost)}};
}

}  // namespace

std::string render_comparison_json(const Comparison& c) { return comparison_json(c).dump(2) + "\n"; }

std::string render_gate_json(const GateResult& g) {
    using nlohmann::json;
    json checks = json::array();
    for (const auto& check : g.checks) {
        checks.push_back({{"name", check.name},
                          {"kind", check.kind},
                          {"metric", check.metric},
                          {"status", to_string(check.status)},
                          {"message", check.message},
                          {"value", number_or_null(check.value)},
                          {"limit", check.limit},
                          {"unit", check.unit},
                          {"samples", check.samples},
                          {"seconds", check.seconds}});
    }
    json out = {{"schema_version", 1},
                {"kind", "gate"},
                {"revision", g.revision},
                {"commit", g.commit.id},
                {"baseline", g.baseline},
                {"passed", g.failures() == 0 && g.errors() == 0},
                {"failures", g.failures()},
                {"errors", g.errors()},
                {"seconds", g.seconds},
                {"checks", checks},
                {"comparison", g.comparison ? comparison_json(*g.comparison) : json(nullptr)}};
    return out.dump(2) + "\n";
}

}  // namespace perfbisect
