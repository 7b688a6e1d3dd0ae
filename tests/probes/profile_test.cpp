// The profile parsers and the diff, on texts as perf, callgrind and
// stackcollapse write them.
#include <catch2/catch.hpp>

#include "probes/profile.hpp"

using namespace perfbisect;

namespace {

// `perf report --stdio --children --sort sym -g none -n` of a run recorded
// with call graphs (trimmed).
const char* const k_perf_report =
    R"(# To display the perf.data header info, please use --header/--header-only options.
#
#
# Total Lost Samples: 0
#
# Samples: 800  of event 'cpu-clock'
# Event count (approx.): 400000000
#
# Children      Self       Samples  Symbol
# ........  ........  ............  ......
#
    97.62%    10.00%            80  [.] main
    32.75%    10.00%            80  [.] (anonymous namespace)::analyse
    26.25%    26.25%           210  [.] __memmove_avx512_unaligned_erms
    19.38%    19.38%           155  [k] pvm_irq_enable
     5.38%     3.38%            27  [.] std::_Hashtable<int, int>::_M_find_before_node
     0.12%     0.12%             1  [.] 0x00000000000039a0


#
# (Tip: ...)
#
)";

}  // namespace

TEST_CASE("perf report: children are inclusive, self is self, the event count the total",
          "[profile]") {
    auto profile = parse_perf_report(k_perf_report);
    REQUIRE(profile.has_value());
    CHECK(profile->total == Approx(400000000));
    CHECK(profile->runs == 1);
    const auto& analyse = profile->functions.at("(anonymous namespace)::analyse");
    CHECK(analyse.inclusive == Approx(0.3275 * 4e8));
    CHECK(analyse.self == Approx(0.10 * 4e8));
    CHECK(profile->functions.at("pvm_irq_enable").self == Approx(0.1938 * 4e8));
    CHECK(profile->functions.count("std::_Hashtable<int, int>::_M_find_before_node") == 1);

    CHECK_FALSE(parse_perf_report("# Samples: 0\n"));
    CHECK_FALSE(parse_perf_report("    12.0%  garbage line without a symbol marker\n"));
}

TEST_CASE("callgrind: names are decompressed, calls add to the caller's inclusive cost",
          "[profile]") {
    const char* const text = R"(# callgrind format
version: 1
creator: callgrind-3.19.0
positions: line
events: Ir
summary: 1000

ob=(1) /bin/prog
fl=(1) prog.c
fn=(1) main
0 100
cfn=(2) parse(char const*)
calls=1 0
0 600
cfn=(3) report
calls=2 0
0 200

fn=(2)
0 500
cfn=(4) tokenize
calls=10 0
+2 100
cfn=(2)
calls=1 0
0 50

fn=(4)
* 100

fn=(3)
-1 200
)";
    auto profile = parse_callgrind_profile(text);
    REQUIRE(profile.has_value());
    CHECK(profile->total == Approx(900));  // self costs: 100 + 500 + 100 + 200
    CHECK(profile->functions.at("main").self == Approx(100));
    CHECK(profile->functions.at("main").inclusive == Approx(900));
    // Direct recursion (parse calling itself) is not counted twice.
    CHECK(profile->functions.at("parse(char const*)").inclusive == Approx(600));
    CHECK(profile->functions.at("parse(char const*)").self == Approx(500));
    CHECK(profile->functions.at("tokenize").inclusive == Approx(100));
    CHECK(profile->functions.at("report").inclusive == Approx(200));

    // Two positions (instr line): the cost is the third column.
    auto instr =
        parse_callgrind_profile("positions: instr line\nevents: Ir Dr\nfn=f\n0x10 3 40 7\n");
    REQUIRE(instr.has_value());
    CHECK(instr->functions.at("f").self == Approx(40));

    CHECK_FALSE(parse_callgrind_profile("hello\n"));
    CHECK_FALSE(parse_callgrind_profile("events: Ir\nfn=(7)\n0 5\n"));  // (7) never defined
}

TEST_CASE("folded stacks: every frame is inclusive once, the leaf is self", "[profile]") {
    auto profile = parse_folded_stacks(
        "main;parse;tokenize 30\nmain;parse 10\nmain;report 60\n"
        "main;walk;walk;walk 5\n\n");
    REQUIRE(profile.has_value());
    CHECK(profile->total == Approx(105));
    CHECK(profile->functions.at("main").inclusive == Approx(105));
    CHECK(profile->functions.at("main").self == Approx(0));
    CHECK(profile->functions.at("parse").inclusive == Approx(40));
    CHECK(profile->functions.at("parse").self == Approx(10));
    CHECK(profile->functions.at("walk").inclusive == Approx(5));  // recursion counted once
    CHECK(profile->functions.at("walk").self == Approx(5));

    auto bad = parse_folded_stacks("main;parse 10\nmain;parse ten\n");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("line 2") != std::string::npos);
    CHECK_FALSE(parse_folded_stacks(""));
}

TEST_CASE("the diff ranks the functions whose share grew; new ones are listed apart", "[profile]") {
    FlatProfile parent;
    parent.total = 1000;
    parent.runs = 1;
    parent.functions = {{"main", {1000, 10}}, {"analyse", {400, 100}}, {"generate", {500, 500}},
                        {"hash", {100, 100}}, {"tiny", {0.5, 0.5}},    {"0x4011a0", {50, 50}}};
    FlatProfile culprit;
    culprit.total = 2400;  // two runs of 1200
    culprit.runs = 2;
    culprit.functions = {{"main", {2400, 20}},        {"analyse", {1200, 300}},
                         {"generate", {1000, 1000}},  {"hash", {200, 200}},
                         {"cross_check", {100, 100}}, {"tiny", {1, 1}},
                         {"0x4011b0", {60, 60}}};
    const ProfileDiff diff = diff_profiles(parent, culprit, 10);
    CHECK(diff.total_change == Approx(0.2));
    REQUIRE(diff.grew.size() == 1);  // main and hash stay, generate shrinks, tiny is below 0.1 %
    CHECK(diff.grew[0].function == "analyse");
    CHECK(diff.grew[0].parent_share == Approx(0.4));
    CHECK(diff.grew[0].culprit_share == Approx(0.5));
    CHECK(diff.grew[0].change() == Approx(0.1));
    CHECK(diff.grew[0].culprit_self == Approx(0.125));
    REQUIRE(diff.appeared.size() == 1);  // addresses are not functions
    CHECK(diff.appeared[0].function == "cross_check");
    CHECK(diff.appeared[0].culprit_share == Approx(100.0 / 2400));

    CHECK(diff_profiles(parent, culprit, 0).grew.empty());
}

TEST_CASE("function names are shortened for tables", "[profile]") {
    CHECK(short_function_name("(anonymous namespace)::analyse(std::basic_string_view<char, "
                              "std::char_traits<char> >)") == "(anonymous namespace)::analyse");
    CHECK(short_function_name("void std::__insertion_sort<__gnu_cxx::__normal_iterator<int*, "
                              "std::vector<int> > >(int*, int*)") == "std::__insertion_sort<…>");
    CHECK(short_function_name("std::_Hashtable<int, int>::_M_find_before_node(unsigned long) "
                              "const") == "std::_Hashtable<…>::_M_find_before_node");
    CHECK(short_function_name("Foo::operator()(int) const") == "Foo::operator()");
    CHECK(short_function_name("operator new(unsigned long)") == "operator new");
    CHECK(short_function_name("bool std::operator< <char>(std::string const&, char const*)") ==
          "std::operator< <…>");
    CHECK(short_function_name("main") == "main");
    CHECK(short_function_name("extra_work(unsigned long)") == "extra_work");
    CHECK(short_function_name("std::string[abi:cxx11] name()") == "name");
}
