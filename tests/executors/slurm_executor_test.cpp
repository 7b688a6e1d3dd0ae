#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>

#include "cache/cache.hpp"
#include "executors/slurm_executor.hpp"
#include "tests/support/temp_dir.hpp"

using namespace perfbisect;
using perfbisect::testing::read_file;
using perfbisect::testing::TempDir;
using perfbisect::testing::write_file;

namespace {

// Answers salloc with a granted allocation (or what `salloc_says`), srun with
// `srun_result`, and records every spec.
class ScriptedRunner final : public ProcessRunner {
public:
    std::string salloc_says = "salloc: Granted job allocation 42\n";
    int salloc_exit = 0;
    ProcessResult srun_result;
    std::vector<ProcessSpec> specs;

    ScriptedRunner() {
        srun_result.started = true;
        srun_result.exit_code = 0;
        srun_result.wall_seconds = 0.5;
    }
    ProcessResult run(const ProcessSpec& spec) override {
        specs.push_back(spec);
        ProcessResult result;
        result.started = true;
        if (spec.argv.front() == "salloc") {
            write_file(spec.stdout_path, salloc_says);
            result.exit_code = salloc_exit;
            return result;
        }
        return srun_result;
    }
};

bool has(const std::vector<std::string>& argv, const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
}

SlurmJobOptions job_options() {
    SlurmJobOptions options;
    options.job_name = "perfbisect-abc";
    options.partition = "bench";
    return options;
}

// A cluster of named nodes: salloc takes the first node its --exclude leaves
// (or fails as Slurm does when none is left), srun on a node listed in
// `faults` writes that Slurm message to the step's stderr and fails.
class ClusterRunner final : public ProcessRunner {
public:
    std::vector<std::string> nodes;
    std::map<std::string, std::string> faults;  // node -> srun's stderr
    std::vector<std::string> placed;            // the node of each srun, in order
    std::vector<std::string> excludes;          // each salloc's --exclude= value, "" = none

    ProcessResult run(const ProcessSpec& spec) override {
        ProcessResult result;
        result.started = true;
        if (spec.argv.front() == "salloc") {
            std::string exclude;
            for (const auto& arg : spec.argv) {
                if (arg.starts_with("--exclude=")) {
                    exclude = arg.substr(10);
                }
            }
            excludes.push_back(exclude);
            for (const auto& node : nodes) {
                if (("," + exclude + ",").find("," + node + ",") == std::string::npos) {
                    m_node = node;
                    write_file(spec.stdout_path,
                               "salloc: Granted job allocation " + std::to_string(++m_job) + "\n");
                    result.exit_code = 0;
                    return result;
                }
            }
            write_file(spec.stdout_path,
                       "salloc: error: Job submit/allocate failed: Requested "
                       "node configuration is not available\n");
            result.exit_code = 1;
            return result;
        }
        placed.push_back(m_node);
        const auto fault = faults.find(m_node);
        write_file(spec.stderr_path, fault == faults.end() ? "" : fault->second);
        result.exit_code = fault == faults.end() ? 0 : 143;
        return result;
    }

private:
    std::string m_node;
    int m_job = 0;
};

// A Slurm runner of jobs on `cluster`, whose scancel always succeeds.
SlurmProcessRunner runner_on(ClusterRunner& cluster, const TempDir& dir) {
    return SlurmProcessRunner(cluster, job_options(), JobLedger{}, dir.path(),
                              [](const std::vector<std::string>&) {
                                  return ControlResult{true, 0, ""};
                              });
}

// A probe run writing its output into dir.
ProcessSpec probe_spec(const TempDir& dir) {
    ProcessSpec spec;
    spec.argv = {"./bench"};
    spec.stdout_path = dir / "out";
    spec.stderr_path = dir / "err";
    return spec;
}

}  // namespace

TEST_CASE("slurm_time and parse_allocated_job", "[executor]") {
    CHECK(slurm_time(90) == "0:01:30");
    CHECK(slurm_time(5400.2) == "1:30:01");
    CHECK(slurm_time(0) == "0:00:01");
    CHECK(parse_allocated_job("salloc: Granted job allocation 17\n") == "17");
    CHECK(
        parse_allocated_job("salloc: Pending job allocation 18\nsalloc: job 18 queued and waiting "
                            "for resources\nsalloc: Granted job allocation 18\n") == "18");
    CHECK(parse_allocated_job("salloc: Pending job allocation 19\n").empty());
    CHECK(parse_allocated_job("salloc: error: invalid partition specified: nope\n").empty());
}

TEST_CASE("a process runs as a Slurm job: salloc, srun into it, scancel", "[executor]") {
    TempDir dir;
    ScriptedRunner inner;
    std::vector<std::string> events;
    std::vector<std::vector<std::string>> controls;
    SlurmJobOptions options{"perfbisect-abc", "bench",        true,    90,
                            "perf",           {"--qos=high"}, "probe", ""};
    JobLedger ledger{[&](const std::string& id, const std::string& kind) {
                         events.push_back("started " + id + " " + kind);
                     },
                     [&](const std::string& id) { events.push_back("ended " + id); }};
    SlurmProcessRunner runner(inner, options, ledger, dir.path(),
                              [&](const std::vector<std::string>& argv) {
                                  controls.push_back(argv);
                                  return ControlResult{true, 0, argv[0] == "squeue" ? "n7\n" : ""};
                              });
    ProcessSpec spec;
    spec.argv = {"./bench", "--quick"};
    spec.cwd = dir.path();
    spec.env = {{"A", "1"}};
    spec.timeout = std::chrono::seconds(30);
    spec.stdout_path = dir / "out";

    const ProcessResult result = runner.run(spec);
    CHECK(result.succeeded());
    CHECK(result.wall_seconds == Approx(0.5));
    REQUIRE(inner.specs.size() == 2);
    const auto& salloc = inner.specs[0].argv;
    CHECK(salloc[0] == "salloc");
    CHECK(has(salloc, "--no-shell"));
    CHECK(has(salloc, "--job-name=perfbisect-abc"));
    CHECK(has(salloc, "--partition=bench"));
    CHECK(has(salloc, "--nodes=1"));
    CHECK(has(salloc, "--exclusive"));
    CHECK(has(salloc, "--time=0:01:30"));
    CHECK(has(salloc, "--account=perf"));
    CHECK(has(salloc, "--qos=high"));
    const auto& srun = inner.specs[1];
    CHECK(srun.argv[0] == "srun");
    CHECK(has(srun.argv, "--jobid=42"));
    CHECK(has(srun.argv, "--chdir=" + dir.path().string()));
    // The probe's argv last, unchanged; its env, timeout and output kept.
    CHECK(std::vector<std::string>(srun.argv.end() - 2, srun.argv.end()) ==
          std::vector<std::string>{"./bench", "--quick"});
    CHECK(srun.env == spec.env);
    CHECK(srun.timeout == spec.timeout);
    CHECK(srun.stdout_path == spec.stdout_path);
    // Recorded before it ran, forgotten after scancel.
    CHECK(events == std::vector<std::string>{"started 42 probe", "ended 42"});
    // The node it ran on, for node blocking, asked before the step runs.
    CHECK(result.node == "n7");
    REQUIRE(controls.size() == 2);
    CHECK(controls[0] ==
          std::vector<std::string>{"squeue", "--noheader", "--jobs=42", "--format=%N"});
    CHECK(controls[1] == std::vector<std::string>{"scancel", "42"});

    SECTION("not exclusive, no time limit, no account") {
        SlurmProcessRunner plain(
            inner, SlurmJobOptions{"perfbisect-abc", "bench", false, 0, "", {}, "probe", ""},
            ledger, dir.path(), [&](const std::vector<std::string>&) {
                return ControlResult{true, 0, ""};
            });
        inner.specs.clear();
        plain.run(spec);
        const auto& argv = inner.specs.at(0).argv;
        CHECK_FALSE(has(argv, "--exclusive"));
        CHECK(std::none_of(argv.begin(), argv.end(), [](const std::string& a) {
            return a.starts_with("--time") || a.starts_with("--account");
        }));
    }
}

TEST_CASE("a failed allocation is a run that did not start, saying why", "[executor]") {
    TempDir dir;
    ScriptedRunner inner;
    inner.salloc_says = "salloc: error: invalid partition specified: nope\n";
    inner.salloc_exit = 1;
    std::vector<std::vector<std::string>> controls;
    int recorded = 0;
    SlurmProcessRunner runner(
        inner, SlurmJobOptions{"perfbisect-abc", "nope", true, 0, "", {}, "probe", ""},
        JobLedger{[&](const std::string&, const std::string&) { ++recorded; }, {}}, dir.path(),
        [&](const std::vector<std::string>& argv) {
            controls.push_back(argv);
            return ControlResult{true, 0, ""};
        });
    ProcessSpec spec;
    spec.argv = {"./bench"};
    spec.stderr_path = dir / "err";
    const ProcessResult result = runner.run(spec);
    CHECK_FALSE(result.started);
    CHECK(result.error.find("invalid partition specified: nope") != std::string::npos);
    CHECK(result.error.find("[executor] partition") != std::string::npos);
    CHECK(read_file(spec.stderr_path).find("invalid partition") != std::string::npos);
    CHECK(inner.specs.size() == 1);  // no srun
    CHECK(recorded == 0);
    // Whatever salloc may have left pending under the session's name is cancelled.
    REQUIRE(controls.size() == 1);
    CHECK(controls[0] == std::vector<std::string>{"scancel", "--name=perfbisect-abc"});
}

TEST_CASE("the Slurm executor records job ids and cancels what a dead run left", "[executor]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "p.db");
    ExecutorConfig config;
    config.kind = ExecutorKind::slurm;
    config.partition = "bench";
    ScriptedRunner inner;
    std::vector<std::vector<std::string>> controls;
    std::string squeue_says;
    std::vector<std::string> recorded_during_run;
    inner.srun_result.exit_code = 0;
    SlurmExecutor executor(config, cache, "s1", inner, dir / "work",
                           [&](const std::vector<std::string>& argv) {
                               controls.push_back(argv);
                               if (argv[0] == "sinfo") {
                                   return ControlResult{true, 0, "up\n"};
                               }
                               if (argv[0] == "squeue") {
                                   return ControlResult{true, 0, squeue_says};
                               }
                               return ControlResult{true, 0, ""};
                           });

    // A run: the id is in the cache while srun runs, gone afterwards.
    class Watching final : public ProcessRunner {
    public:
        Watching(ScriptedRunner& inner, Cache& cache, std::vector<std::string>& seen)
            : m_inner(inner), m_cache(cache), m_seen(seen) {}
        ProcessResult run(const ProcessSpec& spec) override {
            if (spec.argv.front() == "srun") {
                m_seen = m_cache.jobs_of("s1");
            }
            return m_inner.run(spec);
        }

    private:
        ScriptedRunner& m_inner;
        Cache& m_cache;
        std::vector<std::string>& m_seen;
    };
    ProcessSpec spec;
    spec.argv = {"./bench"};
    CHECK(executor.probe_runner(0).run(spec).succeeded());
    CHECK(cache.jobs_of("s1").empty());
    CHECK(&executor.build_runner() == &inner);  // no build_partition: builds run here
    CHECK(executor.scratch_dir() == dir / "work" / "scratch");
    {
        Watching watching(inner, cache, recorded_during_run);
        SlurmProcessRunner runner(
            watching, SlurmJobOptions{"perfbisect-s1", "bench", true, 0, "", {}, "probe", ""},
            JobLedger{[&](const std::string& id, const std::string& kind) {
                          cache.record_job("s1", id, kind);
                      },
                      [&](const std::string& id) { cache.forget_job(id); }},
            dir.path(), [](const std::vector<std::string>&) {
                return ControlResult{true, 0, ""};
            });
        runner.run(spec);
        CHECK(recorded_during_run == std::vector<std::string>{"42"});
        CHECK(cache.jobs_of("s1").empty());
    }

    // Nothing left: prepare checks the partition and says nothing.
    controls.clear();
    auto said = executor.prepare();
    REQUIRE(said.has_value());
    CHECK(said->empty());
    CHECK(controls.at(0)[0] == "sinfo");

    // A killed run left job 7 recorded and job 8 unrecorded under the session's name.
    cache.record_job("s1", "7", "probe");
    cache.record_job("other", "9", "probe");
    squeue_says = "8\n";
    controls.clear();
    said = executor.prepare();
    REQUIRE(said.has_value());
    CHECK(*said == "cancelled 2 Slurm job(s) an earlier run of this session left: 7, 8");
    CHECK(controls.back() == std::vector<std::string>{"scancel", "7", "8"});
    CHECK(cache.jobs_of("s1").empty());
    CHECK(cache.jobs_of("other") == std::vector<std::string>{"9"});
}

TEST_CASE("with nodes = 3 and node blocking each lane is pinned to a node that takes jobs",
          "[executor]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "p.db");
    ExecutorConfig config;
    config.kind = ExecutorKind::slurm;
    config.partition = "bench";
    config.nodes = 3;
    config.blocking = NodeBlocking::rotate;
    ScriptedRunner inner;
    std::string nodes_say = "n1 idle\nn2 down*\nn3 mix\nn4 idle\nn5 drain\n";
    std::vector<std::vector<std::string>> controls;
    SlurmExecutor executor(
        config, cache, "s1", inner, dir / "work", [&](const std::vector<std::string>& argv) {
            controls.push_back(argv);
            if (argv[0] == "sinfo") {
                return ControlResult{true, 0, has(argv, "--Node") ? nodes_say : "up\n"};
            }
            return ControlResult{true, 0, ""};
        });
    REQUIRE(executor.lanes() == 3);
    auto said = executor.prepare();
    REQUIRE(said.has_value());
    CHECK(*said == "node blocking (\"rotate\"): 3 lanes on nodes n1, n3, n4");
    // The leftovers of every lane are looked for by name.
    CHECK(has(controls.back(), "--name=perfbisect-s1,perfbisect-s1-1,perfbisect-s1-2"));

    ProcessSpec spec;
    spec.argv = {"./bench"};
    for (std::size_t lane = 0; lane < 3; ++lane) {
        inner.specs.clear();
        CHECK(executor.probe_runner(lane).run(spec).succeeded());
        const auto& salloc = inner.specs.at(0).argv;
        CHECK(has(salloc, "--nodelist=" + std::vector<std::string>{"n1", "n3", "n4"}[lane]));
        CHECK(has(salloc, "--job-name=" + slurm_job_name("s1", lane)));
    }

    SECTION("too few nodes: a usage error that says how many there are") {
        nodes_say = "n1 idle\nn2 down*\n";
        SlurmExecutor few(
            config, cache, "s2", inner, dir / "work", [&](const std::vector<std::string>& argv) {
                if (argv[0] == "sinfo") {
                    return ControlResult{true, 0, has(argv, "--Node") ? nodes_say : "up\n"};
                }
                return ControlResult{true, 0, ""};
            });
        said = few.prepare();
        REQUIRE_FALSE(said.has_value());
        CHECK(said.error().kind == ErrorKind::usage);
        CHECK(said.error().message ==
              "[executor] blocking = \"rotate\" runs each of the nodes = 3 lanes on a node of "
              "its own, but partition bench has 1 node(s) that take jobs (n1); set nodes = 1, "
              "or blocking = \"off\"");
    }
    SECTION("without blocking the lanes go wherever Slurm has room") {
        config.blocking = NodeBlocking::off;
        SlurmExecutor free(config, cache, "s3", inner, dir / "work",
                           [&](const std::vector<std::string>& argv) {
                               if (argv[0] == "sinfo") {
                                   return ControlResult{true, 0, "up\n"};
                               }
                               return ControlResult{true, 0, ""};
                           });
        said = free.prepare();
        REQUIRE(said.has_value());
        CHECK(said->empty());
        inner.specs.clear();
        free.probe_runner(2).run(spec);
        const auto& salloc = inner.specs.at(0).argv;
        CHECK(std::none_of(salloc.begin(), salloc.end(),
                           [](const std::string& a) { return a.starts_with("--nodelist"); }));
    }
}

TEST_CASE("a lane pinned to a node retries there, and runs elsewhere once the node is dropped",
          "[executor]") {
    TempDir dir;
    ScriptedRunner inner;
    inner.srun_result.exit_code = 1;
    auto faults = std::make_shared<NodeFaults>();
    SlurmJobOptions options = job_options();
    options.node = "n1";
    SlurmProcessRunner lane(
        inner, options, JobLedger{}, dir.path(),
        [](const std::vector<std::string>&) {
            return ControlResult{true, 0, ""};
        },
        faults);
    ProcessSpec spec;
    spec.argv = {"./bench"};
    spec.stderr_path = dir / "err";
    write_file(spec.stderr_path,
               "slurmstepd-n1: error: *** STEP 42.0 ON n1 CANCELLED AT 2026-11-29T10:00:00 DUE TO "
               "PREEMPTION ***\n");
    lane.run(spec);  // three attempts, all on n1: then n1 is dropped
    std::vector<std::string> placed;
    for (const auto& s : inner.specs) {
        if (s.argv.front() == "salloc") {
            for (const auto& a : s.argv) {
                if (a.starts_with("--nodelist=") || a.starts_with("--exclude=")) {
                    placed.push_back(a);
                }
            }
        }
    }
    CHECK(placed == std::vector<std::string>{"--nodelist=n1", "--nodelist=n1", "--nodelist=n1"});
    CHECK(faults->dropped() == std::vector<std::string>{"n1"});
    // Another lane of the session sees the drop too.
    SlurmProcessRunner other(
        inner, job_options(), JobLedger{}, dir.path(),
        [](const std::vector<std::string>&) {
            return ControlResult{true, 0, ""};
        },
        faults);
    CHECK(other.dropped_nodes() == std::vector<std::string>{"n1"});
    write_file(spec.stderr_path, "");
    inner.specs.clear();
    inner.srun_result.exit_code = 0;
    CHECK(lane.run(spec).succeeded());
    CHECK(has(inner.specs.at(0).argv, "--exclude=n1"));
}

TEST_CASE("the Slurm executor refuses a partition the cluster does not have", "[executor]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "p.db");
    ExecutorConfig config;
    config.kind = ExecutorKind::slurm;
    config.partition = "nope";
    ScriptedRunner inner;
    SlurmExecutor missing(config, cache, "s1", inner, dir / "work",
                          [](const std::vector<std::string>&) {
                              return ControlResult{true, 0, ""};
                          });
    auto said = missing.prepare();
    REQUIRE_FALSE(said.has_value());
    CHECK(said.error().kind == ErrorKind::usage);
    CHECK(said.error().message.find("partition 'nope' does not exist") != std::string::npos);

    SlurmExecutor no_slurm(config, cache, "s1", inner, dir / "work",
                           [](const std::vector<std::string>&) {
                               return ControlResult{false, -1, "sinfo: not found"};
                           });
    said = no_slurm.prepare();
    REQUIRE_FALSE(said.has_value());
    CHECK(said.error().message.find("needs Slurm's commands") != std::string::npos);
}

TEST_CASE("with shared_dir, artifacts are copied there once and the probe sees them there",
          "[executor]") {
    TempDir dir;
    Cache cache = Cache::open(dir / "p.db");
    ExecutorConfig config;
    config.kind = ExecutorKind::slurm;
    config.partition = "bench";
    config.shared_dir = dir / "shared";
    ScriptedRunner inner;
    SlurmExecutor executor(config, cache, "s1", inner, dir / "work",
                           [](const std::vector<std::string>&) {
                               return ControlResult{true, 0, ""};
                           });
    CHECK(executor.scratch_dir() == dir / "shared" / "scratch");
    const auto artifacts = dir / "work" / "artifacts" / "fp" / "tree1";
    write_file(artifacts / "bench.sh", "echo hi\n");
    write_file(artifacts / "data" / "input.txt", "42\n");
    CommitInfo commit;
    commit.id = std::string(40, 'a');
    const ProbeTarget target{&commit, artifacts, artifacts};
    auto placed = executor.place(target);
    REQUIRE(placed.has_value());
    const auto expected = dir / "shared" / "artifacts" / "fp" / "tree1";
    CHECK(placed->artifacts_dir == expected);
    CHECK(placed->worktree == expected);
    CHECK(read_file(expected / "data" / "input.txt") == "42\n");
    // Copied once: a second placement reuses the copy.
    write_file(artifacts / "bench.sh", "changed\n");
    REQUIRE(executor.place(target).has_value());
    CHECK(read_file(expected / "bench.sh") == "echo hi\n");
}

TEST_CASE("job_fault reads Slurm's messages, not the probe's", "[executor]") {
    const auto fault = [](const std::string& text) {
        const JobFault f = job_fault(text);
        return f.reason + "@" + f.node;
    };
    // As slurmstepd on node n1 and srun print them (22.05).
    CHECK(fault("slurmstepd-n1: error: *** STEP 42.0 ON n1 CANCELLED AT 2026-11-29T07:00:00 DUE "
                "TO TIME LIMIT ***\n") == "cut off at its time limit@n1");
    CHECK(fault("slurmstepd-n1: error: *** JOB 42 ON n1 CANCELLED AT 2026-11-29T07:00:00 DUE TO "
                "PREEMPTION ***\n") == "preempted@n1");
    CHECK(fault("srun: error: Node failure on n2\n") == "node failure@n2");
    CHECK(fault("slurmstepd-vm: error: *** STEP 1012.0 ON vm CANCELLED AT 2026-11-29T06:55:00 "
                "***\nsrun: error: vm: task 0: Terminated\n") == "cancelled@vm");
    CHECK(fault("srun: error: Unable to create step for job 42: Job/step already completing or "
                "completed\n") == "step not launched@");
    // The probe's own failure, and the probe's own words, are not Slurm's.
    CHECK(fault("srun: error: n1: task 0: Exited with exit code 3\n") == "@");
    CHECK(fault("bench: *** JOB 1 ON x CANCELLED AT noon DUE TO TIME LIMIT ***\n") == "@");
    CHECK(fault("") == "@");
}

TEST_CASE("a job Slurm cut off is run again on another node; a node that keeps failing is dropped",
          "[executor]") {
    TempDir dir;
    ClusterRunner cluster;
    cluster.nodes = {"n1", "n2"};
    cluster.faults["n1"] =
        "slurmstepd-n1: error: *** JOB 1 ON n1 CANCELLED AT 2026-11-29T07:00:00 DUE TO "
        "PREEMPTION ***\n";
    SlurmProcessRunner runner = runner_on(cluster, dir);
    const ProcessSpec spec = probe_spec(dir);

    // Each of three runs meets n1 first, is preempted there and succeeds on n2.
    for (int run = 1; run <= 3; ++run) {
        CAPTURE(run);
        CHECK(runner.run(spec).succeeded());
    }
    CHECK(cluster.placed == std::vector<std::string>{"n1", "n2", "n1", "n2", "n1", "n2"});
    CHECK(cluster.excludes == std::vector<std::string>{"", "n1", "", "n1", "", "n1"});
    // Three faults: n1 is dropped, and later jobs never ask for it.
    CHECK(runner.dropped_nodes() == std::vector<std::string>{"n1"});
    CHECK(runner.run(spec).succeeded());
    CHECK(cluster.placed.back() == "n2");
    CHECK(cluster.excludes.back() == "n1");
}

TEST_CASE("a job fault is retried at most three times, on the same node when there is no other",
          "[executor]") {
    TempDir dir;
    ClusterRunner cluster;
    cluster.nodes = {"solo"};
    cluster.faults["solo"] = "srun: error: Node failure on solo\n";
    SlurmProcessRunner runner = runner_on(cluster, dir);
    const ProcessSpec spec = probe_spec(dir);

    const ProcessResult result = runner.run(spec);
    CHECK_FALSE(result.succeeded());
    // Three attempts, each first asked away from solo, then on solo again.
    CHECK(cluster.placed == std::vector<std::string>{"solo", "solo", "solo"});
    CHECK(cluster.excludes == std::vector<std::string>{"", "solo", "", "solo", ""});
    // After its third fault solo is dropped; with no node left, the run says why.
    CHECK(runner.dropped_nodes() == std::vector<std::string>{"solo"});
    const ProcessResult next = runner.run(spec);
    CHECK_FALSE(next.started);
    CHECK(next.error.find("dropped from this session") != std::string::npos);
    CHECK(next.error.find("solo") != std::string::npos);
}

TEST_CASE("the probe's own failure is not retried", "[executor]") {
    TempDir dir;
    ClusterRunner cluster;
    cluster.nodes = {"n1", "n2"};
    cluster.faults["n1"] = "srun: error: n1: task 0: Exited with exit code 3\n";
    SlurmProcessRunner runner = runner_on(cluster, dir);
    const ProcessSpec spec = probe_spec(dir);
    CHECK_FALSE(runner.run(spec).succeeded());
    CHECK(cluster.placed == std::vector<std::string>{"n1"});
    CHECK(runner.dropped_nodes().empty());
}
