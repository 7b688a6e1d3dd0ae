// The JSON report (schema_version 1, docs/report-json.md): the only
// translation unit of report/ that includes nlohmann/json.
#include <nlohmann/json.hpp>

#include "report/report.hpp"
#include "util/text.hpp"

namespace perfbisect {
namespace {

nlohmann::json number_or_null(const std::optional<double>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

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
        {"cost",
         {
             {"builds", r.cost.builds},
             {"build_seconds", r.cost.build_seconds},
             {"probe_runs", r.cost.probe_runs},
             {"samples", r.cost.samples},
             {"samples_reused", r.cost.samples_reused},
             {"probe_runs_reused", r.cost.probe_runs_reused},
             {"wall_seconds", r.cost.wall_seconds},
         }},
        {"created", format_utc(r.session.created)},
        {"updated", format_utc(r.session.updated)},
    };
    return report.dump(2) + "\n";
}

}  // namespace perfbisect
