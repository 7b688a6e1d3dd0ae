#pragma once

// Alerts from change-detection systems, each read into AlertRequests: which
// test and metric regressed (the route to a project config), between which
// commits, by how much, with the sender's id. Formats (docs/alerts.md):
//  - generic: perfbisect's own JSON;
//  - horreum: Horreum's `change/new` event. It carries no commit, so the
//    commits are read from Horreum's REST API (HorreumApi);
//  - otava: the JSON output of Apache Otava (formerly Hunter), `analyze
//    --output json`, whose numbers are strings.
// Parsers validate every field they keep: commits must be hex object ids,
// names printable and bounded. Nothing from an alert is ever a path, a
// command or a URL. Errors are usage errors (the alert is wrong: HTTP 400)
// except Horreum's REST failures, which are runtime errors (HTTP 502).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/http_client.hpp"
#include "config/config.hpp"
#include "config/server_config.hpp"

namespace perfbisect {

enum class AlertSource { generic, horreum, otava };

const char* to_string(AlertSource source);
// "generic", "horreum", "otava" (for `perfbisect alert --kind`).
Result<AlertSource> parse_alert_source(std::string_view text);

struct AlertRequest {
    AlertSource source = AlertSource::generic;
    std::string alert_id;                // the sender's id, for logs and listings ("" when none)
    std::string test;                    // the route key
    std::string metric;                  // the route key; "" when the alert names none
    std::string good;                    // hex commit id; "" when the alert has none (lookback)
    std::string bad;                     // hex commit id
    int lookback = 0;                    // good unknown: good = bad~lookback, first parent
    std::optional<double> change;        // metric after vs before, relative: +0.12 = rose 12 %
    std::optional<Direction> direction;  // which way is better, when the alert says
    double time = 0;                     // when the change happened, unix seconds (0: unknown)
};

// The largest body perfbisect reads, from HTTP or a file: 1 MiB.
constexpr std::size_t k_max_alert_bytes = std::size_t{1024} * 1024;

// 7 to 64 hex digits: an abbreviated or full SHA-1 or SHA-256 object id.
bool is_commit_id(std::string_view text);

// The input quoted for a message: printable ASCII only, at most 40 characters.
std::string quote_input(std::string_view text);

Result<AlertRequest> parse_generic_alert(std::string_view body);

// A Horreum change/new event, before its commits are known.
struct HorreumChange {
    std::string change_id;     // change.id
    std::string test;          // testName
    std::string variable;      // change.variable.name: the metric
    long long dataset_id = 0;  // change.dataset.id: the first dataset with the change
    long long test_id = 0;
    long long ordinal = 0;         // the dataset's ordinal in its run
    std::optional<double> change;  // read from change.description when it states one
    double time = 0;               // change.timestamp, unix seconds (0: not given)
};

Result<HorreumChange> parse_horreum_event(std::string_view body);

// What perfbisect reads of Horreum's REST API. Why an interface: the real one
// speaks HTTP to the configured server; tests put canned answers in its place.
class HorreumApi {
public:
    virtual ~HorreumApi() = default;
    // The value of `label` in the dataset (GET /api/dataset/{id}/labelValues).
    virtual Result<std::string> label_value(long long dataset, const std::string& label) = 0;
    // The dataset of the same test and ordinal that started just before
    // `dataset` (GET /api/dataset/list/{test}, newest first, page by page).
    virtual Result<long long> previous_dataset(long long test, long long dataset,
                                               long long ordinal) = 0;
};

// The REST client of a Horreum server (settings.url), through http.
std::unique_ptr<HorreumApi> make_horreum_api(const HorreumSettings& settings, std::string api_key,
                                             HttpClient& http);

// bad = the commit label of the change's dataset, good = that of the dataset
// before it; both must be commit ids.
Result<AlertRequest> resolve_horreum_change(const HorreumChange& change, HorreumApi& api,
                                            const std::string& commit_label);

// Every change of every change point in Otava's output, one request each:
// bad = the change point's commit attribute, good = its previous-commit
// attribute when the series has one, else a look-back of settings.lookback.
Result<std::vector<AlertRequest>> parse_otava_report(std::string_view body,
                                                     const OtavaSettings& settings);

// Guesses the format of a JSON body (for `perfbisect alert` without --kind).
Result<AlertSource> detect_alert_source(std::string_view body);

}  // namespace perfbisect
