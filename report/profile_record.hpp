#pragma once

// What profiling a culprit and its parent left ([profile]): stored as a
// "profile" event of the session (this record as JSON in the event's data),
// so the report of a finished session shows it without the profiler.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/profile.hpp"

namespace perfbisect {

struct ProfileRecord {
    std::string culprit;  // full commit ids
    std::string parent;
    std::string tool;  // "perf", "callgrind" or "command"
    int runs = 0;      // profiled runs of each commit
    bool ok = false;
    std::string error;                      // why there is no diff, when not ok
    std::string directory;                  // where the raw profiles are
    std::vector<std::string> parent_files;  // the raw profiles, to open with the tool
    std::vector<std::string> culprit_files;
    ProfileDiff diff;
};

// One JSON object (the event's data); parse_profile_record reads it back and
// returns nullopt for anything else.
std::string profile_record_json(const ProfileRecord& record);
std::optional<ProfileRecord> parse_profile_record(std::string_view json);

}  // namespace perfbisect
