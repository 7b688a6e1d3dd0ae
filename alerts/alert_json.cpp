// The alert formats and Horreum's REST answers: the only translation unit of
// alerts/ that includes nlohmann/json.
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alerts/alert.hpp"
#include "alerts/service.hpp"
#include "report/report.hpp"
#include "util/text.hpp"

namespace perfbisect {

using nlohmann::json;

namespace {

[[noreturn]] void bad_alert(const std::string& message) {
    throw Failure(ErrorKind::usage, message);
}

json parse_body(std::string_view body, const char* what) {
    if (body.size() > k_max_alert_bytes) {
        bad_alert(fmt::format("the {} is larger than 1 MiB", what));
    }
    try {
        return json::parse(body.begin(), body.end());
    } catch (const json::exception& e) {
        // parse_error, or out_of_range for a number beyond double (1e999; found
        // by fuzzing). nlohmann's message names the byte and the problem; drop
        // its "[json.exception…]" tag.
        std::string message = e.what();
        if (const auto tag = message.find("] ");
            message.starts_with("[json.") && tag != std::string::npos) {
            message = message.substr(tag + 2);
        }
        bad_alert(fmt::format("the {} is not valid JSON: {}", what, message));
    }
}

const json* member(const json& object, const char* key) {
    if (!object.is_object()) {
        return nullptr;
    }
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

const json& required_object(const json& object, const char* key, const std::string& where) {
    const json* v = member(object, key);
    if (v == nullptr || !v->is_object()) {
        bad_alert(fmt::format("{}{} must be an object", where, key));
    }
    return *v;
}

// A printable, bounded name (test, metric, id): it is logged and matched, never run.
std::string checked_name(const json& value, const std::string& field, bool allow_number = false) {
    std::string text;
    if (value.is_string()) {
        text = value.get<std::string>();
    } else if (allow_number && value.is_number_integer()) {
        text = std::to_string(value.get<long long>());
    } else {
        bad_alert(fmt::format("{} must be a string", field));
    }
    if (text.empty() || text.size() > 200) {
        bad_alert(fmt::format("{} must be 1 to 200 characters", field));
    }
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) {
            bad_alert(fmt::format("{} must not contain control characters", field));
        }
    }
    return text;
}

std::string checked_commit(const json& value, const std::string& field) {
    if (!value.is_string() || !is_commit_id(value.get<std::string>())) {
        bad_alert(fmt::format(
            "{} {} is not a commit id (7 to 64 hex digits; perfbisect takes no "
            "names or expressions from alerts)",
            field, quote_input(value.is_string() ? value.get<std::string>() : value.dump())));
    }
    return value.get<std::string>();
}

// A number that may be written as a JSON number or a string ("12.5", "-11").
std::optional<double> lenient_number(const json* value) {
    if (value == nullptr) {
        return std::nullopt;
    }
    if (value->is_number()) {
        return value->get<double>();
    }
    if (value->is_string()) {
        const std::string text = trim(value->get<std::string>());
        char* end = nullptr;
        const double number = std::strtod(text.c_str(), &end);
        if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(number)) {
            return number;
        }
    }
    return std::nullopt;
}

// "12%", "+12 %", "-3.5%", "0.12" or 0.12: a relative change.
std::optional<double> relative_change(const json& value) {
    if (value.is_string()) {
        std::string text = trim(value.get<std::string>());
        const bool percent = text.ends_with("%");
        if (percent) {
            text = trim(text.substr(0, text.size() - 1));
        }
        char* end = nullptr;
        const double number = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(number)) {
            return std::nullopt;
        }
        return percent ? number / 100 : number;
    }
    if (value.is_number()) {
        const double number = value.get<double>();
        return std::isfinite(number) ? std::optional<double>(number) : std::nullopt;
    }
    return std::nullopt;
}

double unix_time(const json* value) {
    const auto number = lenient_number(value);
    if (!number || !std::isfinite(*number) || *number <= 0) {
        return 0;
    }
    const double seconds = *number > 1e11 ? *number / 1000 : *number;  // milliseconds from Java senders
    // Beyond the year 5000 it is no time (and no long long: "1e200" was
    // undefined behaviour in the alert id; found by fuzzing).
    return seconds < 1e11 ? seconds : 0;
}

long long integer_field(const json& object, const char* key, const std::string& where) {
    const json* v = member(object, key);
    if (v == nullptr || !v->is_number_integer()) {
        bad_alert(fmt::format("{}{} must be an integer", where, key));
    }
    return v->get<long long>();
}

// The magnitude Horreum's change detection wrote into a change's description:
// relativeDifference: "…: mean 110.000000, previous mean 100.000000 (stddev …)";
// hunterEDivisive: "eDivisive change `+12.3%` at …".
std::optional<double> horreum_description_change(const std::string& description) {
    const std::string marker = ", previous mean ";
    if (const auto at = description.find(marker); at != std::string::npos) {
        const auto value_start = description.rfind(' ', at);
        if (value_start == std::string::npos) {
            return std::nullopt;
        }
        const std::string value_text = description.substr(value_start + 1, at - value_start - 1);
        char* end = nullptr;
        const double value = std::strtod(value_text.c_str(), &end);
        const bool value_ok = !value_text.empty() && end == value_text.c_str() + value_text.size();
        const double previous = std::strtod(description.c_str() + at + marker.size(), &end);
        const bool previous_ok = end != description.c_str() + at + marker.size();
        if (value_ok && previous_ok && previous != 0 && std::isfinite(value) &&
            std::isfinite(previous)) {
            return value / previous - 1;
        }
        return std::nullopt;
    }
    const std::string edivisive = "change `";
    if (const auto at = description.find(edivisive); at != std::string::npos) {
        const auto close = description.find("%`", at);
        if (close != std::string::npos) {
            const std::string number =
                description.substr(at + edivisive.size(), close - at - edivisive.size());
            char* end = nullptr;
            const double percent = std::strtod(number.c_str(), &end);
            if (!number.empty() && end == number.c_str() + number.size() &&
                std::isfinite(percent)) {
                return percent / 100;
            }
        }
    }
    return std::nullopt;
}

}  // namespace

const char* to_string(AlertSource source) {
    switch (source) {
        case AlertSource::horreum:
            return "horreum";
        case AlertSource::otava:
            return "otava";
        default:
            return "generic";
    }
}

Result<AlertSource> parse_alert_source(std::string_view text) {
    if (text == "generic") {
        return AlertSource::generic;
    }
    if (text == "horreum") {
        return AlertSource::horreum;
    }
    if (text == "otava") {
        return AlertSource::otava;
    }
    return usage_error(
        fmt::format("unknown alert kind '{}' (use generic, horreum or otava)", quote_input(text)));
}

bool is_commit_id(std::string_view text) {
    return text.size() >= 7 && text.size() <= 64 &&
           text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

std::string quote_input(std::string_view text) {
    std::string out = "'";
    std::size_t kept = 0;
    for (unsigned char c : text) {
        if (kept == 40) {
            out += "…";
            break;
        }
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
        ++kept;
    }
    return out + "'";
}

Result<AlertRequest> parse_generic_alert(std::string_view body) {
    try {
        const json root = parse_body(body, "alert");
        if (!root.is_object()) {
            bad_alert("the alert must be a JSON object (see docs/alerts.md)");
        }
        static const std::set<std::string> k_known = {
            "version", "id", "test", "metric", "good", "bad", "change", "direction", "details"};
        for (const auto& [key, value] : root.items()) {
            if (!k_known.contains(key)) {
                bad_alert(
                    fmt::format("unknown field {} (known: version, id, test, metric, good, "
                                "bad, change, direction, details)",
                                quote_input(key)));
            }
        }
        if (const json* v = member(root, "version"); v != nullptr && *v != 1) {
            bad_alert("version must be 1");
        }
        AlertRequest request;
        request.source = AlertSource::generic;
        const json* test = member(root, "test");
        const json* good = member(root, "good");
        const json* bad = member(root, "bad");
        if (test == nullptr || good == nullptr || bad == nullptr) {
            bad_alert("the alert needs test, good and bad (see docs/alerts.md)");
        }
        request.test = checked_name(*test, "test");
        if (const json* v = member(root, "metric")) {
            request.metric = checked_name(*v, "metric");
        }
        if (const json* v = member(root, "id")) {
            request.alert_id = checked_name(*v, "id", true);
        }
        request.good = checked_commit(*good, "good");
        request.bad = checked_commit(*bad, "bad");
        if (const json* v = member(root, "change")) {
            request.change = relative_change(*v);
            if (!request.change) {
                bad_alert(
                    fmt::format("change {} is not a relative change (write e.g. \"+12%\" or "
                                "0.12)",
                                quote_input(v->dump())));
            }
        }
        if (const json* v = member(root, "direction")) {
            if (*v == "lower") {
                request.direction = Direction::lower_is_better;
            } else if (*v == "higher") {
                request.direction = Direction::higher_is_better;
            } else {
                bad_alert("direction must be \"lower\" (lower is better) or \"higher\"");
            }
        }
        if (const json* v = member(root, "details"); v != nullptr && !v->is_object()) {
            bad_alert("details must be an object");
        }
        return request;
    } catch (const Failure& failure) {
        return std::unexpected(failure.error());
    }
}

Result<HorreumChange> parse_horreum_event(std::string_view body) {
    try {
        const json root = parse_body(body, "Horreum event");
        if (!root.is_object()) {
            bad_alert("the Horreum event must be a JSON object (a change/new action's body)");
        }
        const json& change = required_object(root, "change", "");
        const json& variable = required_object(change, "variable", "change.");
        // The event repeats the dataset at the top level; change.dataset is the one
        // Horreum documents for change/new.
        const json* dataset = member(change, "dataset");
        if (dataset == nullptr || !dataset->is_object()) {
            dataset = member(root, "dataset");
        }
        if (dataset == nullptr || !dataset->is_object()) {
            bad_alert("change.dataset must be an object with the dataset's id, testId and ordinal");
        }
        HorreumChange out;
        out.change_id = std::to_string(integer_field(change, "id", "change."));
        const json* test = member(root, "testName");
        if (test == nullptr) {
            bad_alert("testName must be the name of the Horreum test");
        }
        out.test = checked_name(*test, "testName");
        const json* name = member(variable, "name");
        if (name == nullptr) {
            bad_alert("change.variable.name must be the change detection variable's name");
        }
        out.variable = checked_name(*name, "change.variable.name");
        out.dataset_id = integer_field(*dataset, "id", "change.dataset.");
        out.test_id = member(*dataset, "testId") != nullptr
                          ? integer_field(*dataset, "testId", "change.dataset.")
                          : integer_field(variable, "testId", "change.variable.");
        out.ordinal = member(*dataset, "ordinal") != nullptr
                          ? integer_field(*dataset, "ordinal", "change.dataset.")
                          : 0;
        if (const json* d = member(change, "description"); d != nullptr && d->is_string()) {
            out.change = horreum_description_change(d->get<std::string>());
        }
        out.time = unix_time(member(change, "timestamp"));
        return out;
    } catch (const Failure& failure) {
        return std::unexpected(failure.error());
    }
}

namespace {

// Horreum over HTTP. Only numbers (dataset and test ids) enter its URLs.
class RestHorreumApi final : public HorreumApi {
public:
    RestHorreumApi(HorreumSettings settings, std::string api_key, HttpClient& http)
        : m_settings(std::move(settings)), m_api_key(std::move(api_key)), m_http(http) {}

    Result<std::string> label_value(long long dataset, const std::string& label) override {
        auto values = get_json(fmt::format("/api/dataset/{}/labelValues", dataset));
        if (!values) {
            return std::unexpected(values.error());
        }
        if (!values->is_array()) {
            return bad_answer(fmt::format("/api/dataset/{}/labelValues", dataset),
                              "expected an array of label values");
        }
        for (const auto& entry : *values) {
            const json* name = member(entry, "name");
            if (name != nullptr && *name == label) {
                const json* value = member(entry, "value");
                if (value == nullptr || !value->is_string()) {
                    return usage_error(
                        fmt::format("label {} of Horreum dataset {} is not a string "
                                    "(it must hold the commit id)",
                                    quote_input(label), dataset));
                }
                return value->get<std::string>();
            }
        }
        return usage_error(
            fmt::format("Horreum dataset {} has no label {} (set [horreum] "
                        "commit_label to the label holding the commit id)",
                        dataset, quote_input(label)));
    }

    Result<long long> previous_dataset(long long test, long long dataset,
                                       long long ordinal) override {
        constexpr int k_page_size = 100;
        constexpr int k_max_pages = 50;
        bool found = false;
        for (int page = 1; page <= k_max_pages; ++page) {
            const std::string path =
                fmt::format("/api/dataset/list/{}?limit={}&page={}&sort=start&direction=Descending",
                            test, k_page_size, page);
            auto list = get_json(path);
            if (!list) {
                return std::unexpected(list.error());
            }
            const json* datasets = member(*list, "datasets");
            if (datasets == nullptr || !datasets->is_array()) {
                return bad_answer(path, "expected {\"total\": …, \"datasets\": [...]}");
            }
            for (const auto& summary : *datasets) {
                const json* id = member(summary, "id");
                const json* summary_ordinal = member(summary, "ordinal");
                if (id == nullptr || !id->is_number_integer()) {
                    return bad_answer(path, "a dataset summary has no integer id");
                }
                if (found && (summary_ordinal == nullptr || *summary_ordinal == ordinal)) {
                    return id->get<long long>();
                }
                found = found || id->get<long long>() == dataset;
            }
            if (static_cast<int>(datasets->size()) < k_page_size) {
                break;
            }
        }
        if (found) {
            return usage_error(
                fmt::format("Horreum dataset {} is the first of test {}: there is "
                            "no earlier commit to start the bisect from",
                            dataset, test));
        }
        return usage_error(
            fmt::format("Horreum test {} does not list dataset {} among its {} "
                        "newest",
                        test, dataset, k_page_size * k_max_pages));
    }

private:
    Result<json> get_json(const std::string& path) {
        HttpHeaders headers{{"Accept", "application/json"}};
        if (!m_api_key.empty()) {
            headers.emplace_back("X-Horreum-API-Key", m_api_key);
        }
        const HttpReply reply = m_http.get(m_settings.url + path, headers, m_settings.timeout);
        if (!reply.ok()) {
            return runtime_error(fmt::format("Horreum at {} answered GET {} with {}",
                                             m_settings.url, path, reply.describe()));
        }
        try {
            return json::parse(reply.body);
        } catch (const json::exception&) {
            return bad_answer(path, "not JSON");
        }
    }

    std::unexpected<Error> bad_answer(const std::string& path, const std::string& problem) {
        return runtime_error(fmt::format("Horreum at {} answered GET {} with unexpected JSON: {}",
                                         m_settings.url, path, problem));
    }

    HorreumSettings m_settings;
    std::string m_api_key;
    HttpClient& m_http;
};

}  // namespace

std::unique_ptr<HorreumApi> make_horreum_api(const HorreumSettings& settings, std::string api_key,
                                             HttpClient& http) {
    return std::make_unique<RestHorreumApi>(settings, std::move(api_key), http);
}

Result<AlertRequest> resolve_horreum_change(const HorreumChange& change, HorreumApi& api,
                                            const std::string& commit_label) {
    auto commit_of = [&](long long dataset) -> Result<std::string> {
        auto value = api.label_value(dataset, commit_label);
        if (value && !is_commit_id(*value)) {
            return usage_error(
                fmt::format("label {} of Horreum dataset {} holds {}, not a commit "
                            "id (7 to 64 hex digits)",
                            quote_input(commit_label), dataset, quote_input(*value)));
        }
        return value;
    };
    auto bad = commit_of(change.dataset_id);
    if (!bad) {
        return std::unexpected(bad.error());
    }
    auto previous = api.previous_dataset(change.test_id, change.dataset_id, change.ordinal);
    if (!previous) {
        return std::unexpected(previous.error());
    }
    auto good = commit_of(*previous);
    if (!good) {
        return std::unexpected(good.error());
    }
    AlertRequest request;
    request.source = AlertSource::horreum;
    request.alert_id = change.change_id;
    request.test = change.test;
    request.metric = change.variable;
    request.good = *good;
    request.bad = *bad;
    request.change = change.change;
    request.time = change.time;
    return request;
}

Result<std::vector<AlertRequest>> parse_otava_report(std::string_view body,
                                                     const OtavaSettings& settings) {
    try {
        const json root = parse_body(body, "Otava report");
        if (!root.is_object()) {
            bad_alert(
                "the Otava report must be a JSON object {\"<test>\": [change points…]} "
                "(otava analyze --output json)");
        }
        std::vector<AlertRequest> requests;
        for (const auto& [test_name, groups] : root.items()) {
            const std::string test = checked_name(json(test_name), "test name");
            if (!groups.is_array()) {
                bad_alert(
                    fmt::format("the change points of {} must be an array", quote_input(test)));
            }
            for (const auto& group : groups) {
                if (!group.is_object()) {
                    bad_alert(
                        fmt::format("a change point of {} is not an object", quote_input(test)));
                }
                const json* attributes = member(group, "attributes");
                const json* changes = member(group, "changes");
                if (changes == nullptr || !changes->is_array()) {
                    bad_alert(fmt::format("a change point of {} has no changes array",
                                          quote_input(test)));
                }
                const json* commit = attributes != nullptr
                                         ? member(*attributes, settings.commit_attribute.c_str())
                                         : nullptr;
                if (commit == nullptr) {
                    bad_alert(
                        fmt::format("a change point of {} has no attributes.{} (the commit "
                                    "of the run; set [otava] commit_attribute)",
                                    quote_input(test), settings.commit_attribute));
                }
                const json* previous =
                    member(*attributes, settings.previous_commit_attribute.c_str());
                const double time = unix_time(member(group, "time"));
                for (const auto& change : *changes) {
                    AlertRequest request;
                    request.source = AlertSource::otava;
                    request.test = test;
                    const json* metric = member(change, "metric");
                    if (metric == nullptr) {
                        bad_alert(fmt::format("a change of {} has no metric", quote_input(test)));
                    }
                    request.metric = checked_name(*metric, "metric");
                    request.bad =
                        checked_commit(*commit, "attributes." + settings.commit_attribute);
                    if (previous != nullptr) {
                        request.good = checked_commit(
                            *previous, "attributes." + settings.previous_commit_attribute);
                    } else {
                        request.lookback = settings.lookback;
                    }
                    // The means are printed with six decimals, the percentage
                    // rounded to an integer: prefer the means.
                    const auto before = lenient_number(member(change, "mean_before"));
                    const auto after = lenient_number(member(change, "mean_after"));
                    if (before && after && *before != 0) {
                        request.change = *after / *before - 1;
                    } else if (auto percent =
                                   lenient_number(member(change, "forward_change_percent"))) {
                        request.change = *percent / 100;
                    }
                    request.time = time;
                    request.alert_id =
                        fmt::format("{}@{}/{}", test, static_cast<long long>(time), request.metric);
                    requests.push_back(std::move(request));
                }
            }
        }
        if (requests.empty()) {
            bad_alert("the Otava report has no change points");
        }
        return requests;
    } catch (const Failure& failure) {
        return std::unexpected(failure.error());
    }
}

Result<AlertSource> detect_alert_source(std::string_view body) {
    try {
        const json root = parse_body(body, "alert");
        if (root.is_object() && member(root, "change") != nullptr &&
            member(root, "change")->is_object()) {
            return AlertSource::horreum;
        }
        if (member(root, "good") != nullptr || member(root, "bad") != nullptr) {
            return AlertSource::generic;
        }
        if (root.is_object() && !root.empty()) {
            bool otava = true;
            for (const auto& [key, value] : root.items()) {
                otava = otava && value.is_array();
            }
            if (otava) {
                return AlertSource::otava;
            }
        }
        return usage_error(
            "cannot tell the alert's format (generic, Horreum change/new or Otava "
            "JSON); give --kind");
    } catch (const Failure& failure) {
        return std::unexpected(failure.error());
    }
}

std::string HttpReply::describe() const {
    if (status == 0) {
        return error.empty() ? std::string("no response") : error;
    }
    return fmt::format("HTTP {}", status);
}

namespace {

json optional_number(const std::optional<double>& value) {
    return value ? json(*value) : json(nullptr);
}

json queue_json(const QueueEntry& e) {
    return {
        {"state", e.state},
        {"source", e.source},
        {"alert_id", e.alert_id},
        {"test", e.test},
        {"metric", e.metric},
        {"expected_change", optional_number(e.expected_change)},
        {"min_effect", e.min_effect},
        {"received", format_utc(static_cast<std::int64_t>(e.received))},
        {"error", e.error},
    };
}

}  // namespace

std::string render_alert_session_json(const SessionReport* report, const QueueEntry* entry) {
    json out;
    if (report != nullptr) {
        out = json::parse(render_json(*report));
    } else if (entry != nullptr) {
        out = {
            {"schema_version", 1},
            {"session", entry->session},
            {"status", "queued"},
            {"summary", "queued; the bisect has not started"},
            {"good", entry->good},
            {"bad", entry->bad},
            {"good_revision", entry->good},
            {"bad_revision", entry->bad},
            {"min_effect", entry->min_effect},
            {"culprits", json::array()},
            {"candidates", json::array()},
            {"tested", json::array()},
        };
    }
    if (entry != nullptr) {
        out["queue"] = queue_json(*entry);
    }
    return out.dump(2) + "\n";
}

std::string render_session_list_json(const std::vector<SessionRecord>& sessions,
                                     const std::vector<QueueEntry>& entries) {
    std::map<std::string, const QueueEntry*> by_session;
    for (const auto& e : entries) {
        by_session[e.session] = &e;
    }
    json out = json::array();
    std::set<std::string> listed;
    for (const auto& s : sessions) {
        json item = {{"id", s.id},
                     {"status", s.status},
                     {"good", s.good},
                     {"bad", s.bad},
                     {"created", format_utc(s.created)},
                     {"updated", format_utc(s.updated)},
                     {"summary", s.stop_reason}};
        if (auto it = by_session.find(s.id); it != by_session.end()) {
            item["queue"] = queue_json(*it->second);
        }
        listed.insert(s.id);
        out.push_back(std::move(item));
    }
    for (const auto& e : entries) {
        if (listed.contains(e.session)) {
            continue;
        }
        const std::string received = format_utc(static_cast<std::int64_t>(e.received));
        out.push_back({{"id", e.session},
                       {"status", e.state == "failed" ? "failed" : "queued"},
                       {"good", e.good},
                       {"bad", e.bad},
                       {"created", received},
                       {"updated", received},
                       {"summary", e.error},
                       {"queue", queue_json(e)}});
    }
    return out.dump(2) + "\n";
}

std::string render_acceptance_json(const Acceptance& acceptance) {
    json sessions = json::array();
    for (const auto& a : acceptance.accepted) {
        const auto& e = a.entry;
        sessions.push_back({{"session", e.session},
                            {"state", e.state},
                            {"duplicate", a.duplicate},
                            {"source", e.source},
                            {"alert_id", e.alert_id},
                            {"test", e.test},
                            {"metric", e.metric},
                            {"good", e.good},
                            {"bad", e.bad},
                            {"expected_change", optional_number(e.expected_change)},
                            {"min_effect", e.min_effect},
                            {"url", "/v1/sessions/" + e.session}});
    }
    json out = {{"sessions", sessions}, {"skipped", acceptance.skipped}};
    if (!acceptance.accepted.empty()) {
        out["session"] = acceptance.accepted.front().entry.session;
        out["state"] = acceptance.accepted.front().entry.state;
        out["duplicate"] = acceptance.accepted.front().duplicate;
    }
    return out.dump(2) + "\n";
}

std::string render_error_json(const std::string& message) {
    return json({{"error", message}}).dump() + "\n";
}

}  // namespace perfbisect
