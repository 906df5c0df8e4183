// tests/report/report_test.cpp: `richlazy report` on a small experiment the test runs, its
// page and figures, and the errors for experiments it cannot use.
#include "../test_common.h"

#include <richlazy/core/config_error.h>
#include <richlazy/core/csv.h>
#include <richlazy/report/experiment_data.h>
#include <richlazy/report/report.h>
#include <richlazy/train/summary.h>
#include <richlazy/train/trainer.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <regex>
#include <set>

using namespace richlazy;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

/// tests/report/small_experiment.yaml: 2 ranks x 2 seeds, a few iterations.
std::string small_config() {
  const std::string text = testing::read_text(testing::source_dir() + "/tests/report/small_experiment.yaml");
  REQUIRE_FALSE(text.empty());
  return text;
}
/// Runs the small experiment (with its report) into tmp/out; returns the experiment folder.
std::string run_small(const testing::TempDir& tmp, const std::string& env = "",
                      const std::string& extra = "") {
  testing::write_text(tmp.file("small.yaml"), small_config());
  const auto r = testing::run_command(env + " " + testing::richlazy_binary() + " run " +
                                      tmp.file("small.yaml") + " --quiet --out " + tmp.file("out") + " " + extra);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  return tmp.file("out") + "/small";
}

struct PngSize {
  bool valid = false;
  uint32_t width = 0, height = 0;
};

/// Signature and IHDR chunk of a PNG file.
PngSize png_size(const std::string& path) {
  const std::string b = testing::read_text(path);
  PngSize s;
  if (b.size() < 33 || b.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || b.compare(12, 4, "IHDR") != 0) return s;
  const auto be32 = [&](std::size_t at) {
    return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) |
           (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
  };
  s.valid = b.compare(b.size() - 8, 4, "IEND") == 0;  // complete, not truncated
  s.width = be32(16);
  s.height = be32(20);
  return s;
}

std::vector<std::string> attributes(const std::string& html, const std::string& name) {
  std::vector<std::string> out;
  const std::regex re(name + "=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("run writes a report: every figure, a page that references only existing files", "[report]") {
  testing::TempDir tmp;
  testing::write_text(tmp.file("small.yaml"), small_config());
  const auto r = testing::run_command(testing::richlazy_binary() + " run " + tmp.file("small.yaml") +
                                      " --quiet --out " + tmp.file("out"));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::string dir = tmp.file("out") + "/small/report";
  REQUIRE_THAT(r.out, Contains("Report: " + dir + "/index.html"));

  for (const char* fig : {"fig1_final", "fig2_trajectories", "fig3_spectra", "fig4_learning"}) {
    INFO(fig);
    const PngSize png = png_size(dir + "/" + fig + ".png");
    REQUIRE(png.valid);
    REQUIRE(png.width >= 400);
    REQUIRE(png.width <= 4000);
    REQUIRE(png.height >= 250);
    REQUIRE(png.height <= 4000);
    REQUIRE(fs::file_size(dir + "/" + fig + ".png") > 10000);  // drawn, not an empty canvas
    REQUIRE(testing::read_text(dir + "/" + fig + ".svg").find("<svg") != std::string::npos);
  }
  // Figure (a) has one panel per metric of the paper's Figure 1: three panels side by side.
  const PngSize fig1 = png_size(dir + "/fig1_final.png");
  REQUIRE(fig1.width > 2 * fig1.height);

  const std::string html = testing::read_text(dir + "/index.html");
  std::set<std::string> referenced;
  for (const char* attr : {"src", "href"}) {
    for (const auto& v : attributes(html, attr)) {
      if (v.rfind("#", 0) == 0) continue;
      REQUIRE_FALSE(v.find("://") != std::string::npos);  // offline: nothing external
      INFO(v);
      REQUIRE(fs::exists(dir + "/" + v));
      referenced.insert(v);
    }
  }
  REQUIRE(referenced.count("fig1_final.png") == 1);
  REQUIRE(referenced.count("fig3_spectra.svg") == 1);
  REQUIRE(attributes(html, "src").size() == 4);  // four images, no scripts from files
  REQUIRE(count(html, "<tr class=\"run\">") == 4);  // one row per run
  REQUIRE_THAT(html, Contains("rank 2"));
  REQUIRE_THAT(html, Contains("init.W_rec.rank: [2, 24]"));  // the config
  REQUIRE_FALSE(fs::exists(tmp.file("out") + "/small/report.partial-" + std::to_string(getpid())));
}

TEST_CASE("the runs are grouped by swept value, seeds averaged", "[report]") {
  testing::TempDir tmp;
  const std::string exp = run_small(tmp, "", "--no-report");
  REQUIRE_FALSE(fs::exists(exp + "/report"));
  const report::ExperimentData d = report::load_experiment(exp);
  REQUIRE(d.x_key == "init.W_rec.rank");
  REQUIRE(d.x_numeric);
  REQUIRE(d.x_log);
  REQUIRE(d.x_axis_label == "rank of W_rec(0)");
  REQUIRE(d.seed_keys == std::vector<std::string>{"seed"});
  REQUIRE(d.spectrum_param == "W_rec");
  REQUIRE(d.groups.size() == 2);
  REQUIRE(d.groups[0].label == "rank 2");
  REQUIRE(d.groups[0].runs == std::vector<std::string>{"rank-2_seed-0", "rank-2_seed-1"});
  REQUIRE(*d.groups[1].x_value == 24);
  REQUIRE(d.runs[0].erank.at("W_rec") == Approx(2.0).margin(0.2));
  REQUIRE(d.runs[0].final.at("kernel_alignment") <= 1.0);
  // The initial state: summary.csv's init_* columns and the metrics at step 0 (summary.json).
  REQUIRE(d.init_columns == std::vector<std::string>{"init_spectral_radius", "init_erank_eig", "init_loss",
                                                     "init_hidden_norm_ratio", "init_grad_norm"});
  const auto json = nlohmann::json::parse(testing::read_text(exp + "/runs/rank-2_seed-0/summary.json"));
  REQUIRE(d.runs[0].initial_state.at("init_loss") == Approx(json["initial_state"]["loss"].get<double>()));
  REQUIRE(d.runs[0].initial_state.at("init_spectral_radius") == Approx(json["init"][2]["spectral_radius"].get<double>()));
  const auto metrics = report::parse_csv(testing::read_text(exp + "/runs/rank-2_seed-0/metrics.csv"), "metrics.csv");
  REQUIRE(metrics[0][1] == "loss");
  REQUIRE(d.runs[0].initial.at("loss") == Approx(std::stod(metrics[1][1])).epsilon(1e-12));
  // The report's initial-state table shows their means over seeds.
  const auto r = testing::run_command(testing::richlazy_binary() + " report " + exp);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::string html = testing::read_text(exp + "/report/index.html");
  REQUIRE_THAT(html, Contains("<table id=\"initial-table\">"));
  REQUIRE_THAT(html, Contains("<th>init_loss</th>"));
  REQUIRE_THAT(html, Contains("<th>loss (step 0)</th>"));
  REQUIRE_THAT(html, !Contains("<th>dw_rec (step 0)</th>"));  // 0 in every run
  const double mean_loss = (d.runs[0].initial_state.at("init_loss") + d.runs[1].initial_state.at("init_loss")) / 2;
  REQUIRE(d.runs[1].id == "rank-2_seed-1");
  REQUIRE_THAT(html, Contains(fmt::format("<td>{:.4g} ± ", mean_loss)));
}

TEST_CASE("diverged runs and experiments without a sweep still get their figures", "[report]") {
  testing::TempDir tmp;
  std::string config = small_config();
  config.replace(config.find("init.W_rec.rank: [2, 24]"), 24, "train.optimizer.lr: [0.003, 1000]");
  testing::write_text(tmp.file("lr.yaml"), config);
  const auto r = testing::run_command(testing::richlazy_binary() + " run " + tmp.file("lr.yaml") +
                                      " --quiet --out " + tmp.file("out"));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);  // diverged runs are results, not errors
  const std::string dir = tmp.file("out") + "/small";
  REQUIRE_THAT(testing::read_text(dir + "/summary.csv"), Contains("diverged"));
  const std::string figures = testing::read_text(dir + "/report/figures.json");
  REQUIRE_THAT(figures, Contains("No run finished ok for: lr 1000"));
  REQUIRE(png_size(dir + "/report/fig1_final.png").valid);
  REQUIRE(count(testing::read_text(dir + "/report/index.html"), "<img ") == 4);

  const std::string single = small_config().substr(0, small_config().find("sweep:"));
  testing::write_text(tmp.file("single.yaml"), single);
  const auto s = testing::run_command(testing::richlazy_binary() + " run " + tmp.file("single.yaml") +
                                      " --quiet --overwrite --out " + tmp.file("out"));
  INFO(s.out << s.err);
  REQUIRE(s.status == 0);
  REQUIRE(count(testing::read_text(dir + "/report/index.html"), "<tr class=\"run\">") == 1);
  REQUIRE(png_size(dir + "/report/fig3_spectra.png").valid);
}

TEST_CASE("summary.csv is read with RFC 4180 quoting", "[report]") {
  const auto rows = report::parse_csv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\n1,\"two\nlines\",3", "t.csv");
  REQUIRE(rows.size() == 3);
  REQUIRE(rows[1] == std::vector<std::string>{"x, y", "say \"hi\"", ""});
  REQUIRE(rows[2] == std::vector<std::string>{"1", "two\nlines", "3"});
  REQUIRE_THROWS_WITH(report::parse_csv("a,b\n1,\"open\n", "t.csv"), Contains("t.csv:2: a quoted field"));
}

TEST_CASE("swept initializer specs get short legend labels", "[report]") {
  const auto l = report::value_labels(
      {"{name: connectome, file: a.npy, norm: auto}", "{name: shuffled, base: {name: connectome, file: a.npy}}",
       "{name: gaussian, norm: auto}"});
  REQUIRE(l == std::vector<std::string>{"connectome", "shuffled(connectome)", "gaussian"});
  const auto m = report::value_labels({"{name: io_aligned_low_rank, rank: 1}", "{name: low_rank, rank: 1}",
                                       "{name: io_aligned_low_rank, rank: 30}", "{name: low_rank, rank: 30}"});
  REQUIRE(m == std::vector<std::string>{"io_aligned_low_rank rank=1", "low_rank rank=1", "io_aligned_low_rank rank=30",
                                        "low_rank rank=30"});
  // Scalars and maps without a name side by side (a swept norm), as the connectome controls sweep it.
  REQUIRE(report::value_labels({"auto", "{spectral_radius: 0.9}", "{spectral_radius: 1.3}"}) ==
          std::vector<std::string>{"auto", "{spectral_radius: 0.9}", "{spectral_radius: 1.3}"});
  REQUIRE(report::value_labels({"30", "{name: gaussian}", "{name: gaussian}"}) ==
          std::vector<std::string>{"30", "gaussian", "gaussian #2"});
}

namespace {
/// Edits a run's summary.json, the file `richlazy report` gathers summary.csv from.
void edit_summary_json(const std::string& exp, const std::string& run,
                       const std::function<void(nlohmann::ordered_json&)>& edit) {
  const std::string path = exp + "/runs/" + run + "/summary.json";
  auto j = nlohmann::ordered_json::parse(testing::read_text(path));
  edit(j);
  testing::write_text(path, j.dump(2));
}

}  // namespace

TEST_CASE("experiments the report cannot use give one clear error and no report folder", "[report]") {
  testing::TempDir tmp;
  const std::string exp = run_small(tmp, "", "--no-report");
  const std::string bin = testing::richlazy_binary();
  const std::string csv = testing::read_text(exp + "/summary.csv");

  SECTION("not an experiment folder") {
    const auto r = testing::run_command(bin + " report " + tmp.file("nowhere"));
    REQUIRE(r.status == 2);
    REQUIRE_THAT(r.err, Contains("nowhere: no such experiment folder"));
  }
  SECTION("an empty experiment") {
    // No run is complete: summary.csv is gathered from the runs' summary.json files.
    for (const auto& e : fs::directory_iterator(exp + "/runs")) fs::remove(e.path() / "summary.json");
    const auto r = testing::run_command(bin + " report " + exp);
    REQUIRE(r.status == 2);
    REQUIRE_THAT(r.err, Contains("summary.csv: the experiment has no runs"));
    REQUIRE_THAT(r.err, Contains("0 of 4 runs complete"));
    // The library's own check, on a summary.csv with a header only.
    testing::write_text(exp + "/summary.csv", csv.substr(0, csv.find('\n') + 1));
    REQUIRE_THROWS_WITH(report::load_experiment(exp), Contains("summary.csv: the experiment has no runs"));
  }
  SECTION("no summary.csv: the report gathers it again from the runs") {
    fs::remove(exp + "/summary.csv");
    REQUIRE_THROWS_WITH(report::load_experiment(exp), Contains("summary.csv: missing"));
    const auto r = testing::run_command(bin + " report " + exp + " --formats png");
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    REQUIRE(testing::read_text(exp + "/summary.csv") == csv);  // byte for byte
    fs::remove_all(exp + "/report");
  }
  SECTION("a metric column missing from summary.csv") {
    // Drop the kernel_alignment column from every line.
    std::string cut;
    std::size_t col = 0;
    {
      const std::string header = csv.substr(0, csv.find('\n'));
      const auto rows = report::parse_csv(header, "h");
      col = std::find(rows[0].begin(), rows[0].end(), "kernel_alignment") - rows[0].begin();
    }
    for (const auto& row : report::parse_csv(csv, "summary.csv")) {
      for (std::size_t c = 0; c < row.size(); ++c) {
        if (c == col) continue;
        cut += (c == 0 ? "" : ",") + row[c];
      }
      cut += "\n";
    }
    testing::write_text(exp + "/summary.csv", cut);
    REQUIRE_THROWS_WITH(report::load_experiment(exp), Contains("summary.csv:1: has no column 'kernel_alignment'"));
    // The same through the command, from the runs' files.
    for (const auto& e : fs::directory_iterator(exp + "/runs")) {
      edit_summary_json(exp, e.path().filename().string(), [](nlohmann::ordered_json& j) { j["final"].erase("kernel_alignment"); });
    }
    const auto r = testing::run_command(bin + " report " + exp);
    REQUIRE(r.status == 2);
    REQUIRE_THAT(r.err, Contains("summary.csv:1: has no column 'kernel_alignment'"));
  }
  SECTION("a run folder without metrics.csv") {
    fs::remove(exp + "/runs/rank-24_seed-1/metrics.csv");
    const auto r = testing::run_command(bin + " report " + exp);
    REQUIRE(r.status == 2);
    REQUIRE_THAT(r.err, Contains("rank-24_seed-1/metrics.csv: missing"));
  }
  SECTION("a figure metric that was not logged") {
    const auto r = testing::run_command(bin + " report " + exp + " --metrics dw_rec,sign_similarity");
    REQUIRE(r.status == 2);
    REQUIRE_THAT(r.err, Contains("--metrics: 'sign_similarity' is not a final metric"));
  }
  SECTION("an output folder that is not a report") {
    fs::create_directories(tmp.file("mine"));
    testing::write_text(tmp.file("mine/notes.txt"), "keep me");
    const auto r = testing::run_command(bin + " report " + exp + " --out " + tmp.file("mine"));
    REQUIRE(r.status == 2);
    REQUIRE_THAT(r.err, Contains("is not a richlazy report"));
    REQUIRE(testing::read_text(tmp.file("mine/notes.txt")) == "keep me");
  }
  REQUIRE_FALSE(fs::exists(exp + "/report"));
  for (const auto& e : fs::directory_iterator(exp)) REQUIRE(e.path().filename().string().find("report") == std::string::npos);
}

TEST_CASE("without matplotlib, report says what to install and run still succeeds", "[report]") {
  testing::TempDir tmp;
  // A Python that cannot import matplotlib.
  testing::write_text(tmp.file("python"), "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'matplotlib'\" >&2\nexit 1\n");
  fs::permissions(tmp.file("python"), fs::perms::owner_all);
  const std::string exp = run_small(tmp, "RICHLAZY_PYTHON=" + tmp.file("python"));
  const auto warned = testing::run_command("RICHLAZY_PYTHON=" + tmp.file("python") + " " + testing::richlazy_binary() +
                                           " report " + exp);
  REQUIRE(warned.status == 1);
  REQUIRE_THAT(warned.err, Contains("No module named 'matplotlib'"));
  REQUIRE_THAT(warned.err, Contains("apt-get install python3-matplotlib"));
  // The page still has the tables.
  const std::string html = testing::read_text(exp + "/report/index.html");
  REQUIRE(count(html, "<tr class=\"run\">") == 4);
  REQUIRE_THAT(html, Contains("No figures"));
  REQUIRE_FALSE(fs::exists(exp + "/report/fig1_final.png"));

  const auto none = testing::run_command(testing::richlazy_binary() + " report " + exp + " --python " +
                                         tmp.file("no-such-python"));
  REQUIRE(none.status == 1);
  REQUIRE_THAT(none.err, Contains("apt-get install python3 python3-matplotlib"));

  // A run with the same Python warns and exits 0 (run_small required status 0).
  testing::TempDir tmp2;
  testing::write_text(tmp2.file("small.yaml"), small_config());
  const auto run = testing::run_command("RICHLAZY_PYTHON=" + tmp.file("python") + " " + testing::richlazy_binary() +
                                        " run " + tmp2.file("small.yaml") + " --quiet --out " + tmp2.file("out"));
  REQUIRE(run.status == 0);
  REQUIRE_THAT(run.err, Contains("warning: no figures"));
}

TEST_CASE("a report is replaced whole, and pdf figures come on request", "[report]") {
  testing::TempDir tmp;
  const std::string exp = run_small(tmp, "", "--no-report");
  const auto r = testing::run_command(testing::richlazy_binary() + " report " + exp + " --formats pdf --out " +
                                      tmp.file("rep"));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  REQUIRE(testing::read_text(tmp.file("rep/fig1_final.pdf")).rfind("%PDF", 0) == 0);
  REQUIRE(fs::exists(tmp.file("rep/fig1_final.png")));
  REQUIRE_FALSE(fs::exists(tmp.file("rep/fig1_final.svg")));
  testing::write_text(tmp.file("rep/stale.txt"), "old");
  const auto again = testing::run_command(testing::richlazy_binary() + " report " + exp + " --out " + tmp.file("rep"));
  REQUIRE(again.status == 0);
  REQUIRE_FALSE(fs::exists(tmp.file("rep/stale.txt")));
  REQUIRE(fs::exists(tmp.file("rep/fig1_final.svg")));
}

// ---- issue 12, item 6: failed runs, run ids, the plotter's errors ----------------------

namespace {
/// summary.csv text with row `row` (1 = the first run) changed by `edit`.
std::string edit_summary_row(const std::string& csv, std::size_t row,
                             const std::function<void(std::vector<std::string>&, const std::vector<std::string>&)>& edit) {
  auto rows = report::parse_csv(csv, "summary.csv");
  REQUIRE(rows.size() > row);
  edit(rows[row], rows[0]);
  std::string out;
  for (const auto& r : rows) {
    for (std::size_t c = 0; c < r.size(); ++c) out += (c == 0 ? "" : ",") + csv_field(r[c]);
    out += "\n";
  }
  return out;
}

std::size_t column_of(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  REQUIRE(it != header.end());
  return static_cast<std::size_t>(it - header.begin());
}

/// The lines of `text` that are not empty.
std::size_t lines(const std::string& text) {
  std::size_t n = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty()) ++n;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return n;
}
}  // namespace

TEST_CASE("a failed run is left out of the report, which says so on the page and in the log", "[report]") {
  testing::TempDir tmp;
  const std::string exp = run_small(tmp, "", "--no-report");
  // A run that failed before its first logged step: status failed, no metrics.csv.
  edit_summary_json(exp, "rank-24_seed-1", [](nlohmann::ordered_json& j) { j["status"] = "failed: out of memory, say"; });
  fs::remove(exp + "/runs/rank-24_seed-1/metrics.csv");

  const auto r = testing::run_command(testing::richlazy_binary() + " report " + exp);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  REQUIRE_THAT(r.err, Contains("richlazy: note: the report leaves out 1 failed run: rank-24_seed-1 "
                               "(failed: out of memory, say)"));
  const std::string html = testing::read_text(exp + "/report/index.html");
  REQUIRE_THAT(html, Contains("<p class=\"warning\" id=\"failed-runs\">1 of 4 runs failed and are left out of the "
                              "figures and the means: <code>rank-24_seed-1</code> (failed: out of memory, say).</p>"));
  REQUIRE(count(html, "<tr class=\"run\">") == 4);   // still listed in the runs table
  REQUIRE_THAT(html, Contains("<td>1 / 2</td>"));    // rank 24: one of its two runs ok
  REQUIRE(count(html, "<img ") == 4);                // every figure, from the other runs
  REQUIRE(png_size(exp + "/report/fig1_final.png").valid);

  const report::ExperimentData d = report::load_experiment(exp);
  REQUIRE(d.failed_runs().size() == 1);
  REQUIRE(d.failed_runs()[0]->id == "rank-24_seed-1");
  REQUIRE(d.groups[1].ok_runs == std::vector<std::string>{"rank-24_seed-0"});

  SECTION("every run failed: the page has the tables and says why there are no figures") {
    for (const auto& e : fs::directory_iterator(exp + "/runs")) {
      edit_summary_json(exp, e.path().filename().string(), [](nlohmann::ordered_json& j) { j["status"] = "failed: boom"; });
    }
    const auto f = testing::run_command(testing::richlazy_binary() + " report " + exp);
    INFO(f.out << f.err);
    REQUIRE(f.status == 0);
    REQUIRE_THAT(f.err, Contains("leaves out 4 failed runs"));
    const std::string page = testing::read_text(exp + "/report/index.html");
    REQUIRE_THAT(page, Contains("No figures: no run finished ok."));
    REQUIRE(count(page, "<img ") == 0);
    REQUIRE(count(page, "<tr class=\"run\">") == 4);
  }
}

TEST_CASE("run ids read back from summary.csv must be plain folder names", "[report]") {
  testing::TempDir tmp;
  const std::string exp = run_small(tmp, "", "--no-report");
  const std::string csv = testing::read_text(exp + "/summary.csv");
  // A folder the escaping id would reach, so that only the id check can refuse it.
  fs::create_directories(exp + "/evil");
  fs::copy_file(exp + "/runs/rank-2_seed-0/metrics.csv", exp + "/evil/metrics.csv");
  const auto with_id = [&](const std::string& id) {
    testing::write_text(exp + "/summary.csv",
                        edit_summary_row(csv, 1, [&](std::vector<std::string>& row, const std::vector<std::string>&) {
                          row[0] = id;
                        }));
  };

  with_id("../evil");
  report::ReportOptions ro;
  ro.experiment_dir = exp;
  REQUIRE_THROWS_WITH(report::make_report(ro), Contains("summary.csv:2: run id '../evil' holds a path separator"));
  REQUIRE_FALSE(fs::exists(exp + "/report"));
  // `richlazy report` gathers summary.csv from the run folders, whose names are plain, and a
  // summary.json whose run_id is not its folder's name is not read.
  edit_summary_json(exp, "rank-2_seed-0", [](nlohmann::ordered_json& j) { j["run_id"] = "../evil"; });
  const auto r = testing::run_command(testing::richlazy_binary() + " report " + exp + " --formats png");
  INFO(r.out << r.err);
  REQUIRE_THAT(r.err, Contains("rank-2_seed-0/summary.json: its run_id is ../evil, not its folder's name"));
  REQUIRE_THAT(testing::read_text(exp + "/summary.csv"), !Contains("evil"));
  fs::remove_all(exp + "/report");
  with_id("../evil");

  for (const auto& [id, why] : std::vector<std::pair<std::string, std::string>>{
           {"..", "run id '..' is a relative folder reference"},
           {".", "run id '.' is a relative folder reference"},
           {"", "run id '' is empty"},
           {"/etc", "run id '/etc' holds a path separator"},
           {"a\x01" "b", "run id 'a\\x01b' holds a control character"},
           {"two\nlines", "run id 'two\\nlines' holds a control character"}}) {
    INFO(why);
    with_id(id);
    REQUIRE_THROWS_WITH(report::load_experiment(exp), Contains("summary.csv:2: " + why));
  }
  with_id("rank-2_seed-1");  // the id of another row
  REQUIRE_THROWS_WITH(report::load_experiment(exp), Contains("summary.csv:3: run id 'rank-2_seed-1' is listed twice"));
}

TEST_CASE("the plotter's failures are one line, never a Python traceback", "[report]") {
  testing::TempDir tmp;
  const std::string exp = run_small(tmp, "", "--no-report");
  const std::string metrics = exp + "/runs/rank-2_seed-0/metrics.csv";
  const std::string bin = testing::richlazy_binary();
  auto report_error = [&](const std::string& expected) {
    const auto r = testing::run_command(bin + " report " + exp);
    INFO(r.out << r.err);
    REQUIRE(r.status == 2);
    REQUIRE(lines(r.err) == 1);
    REQUIRE_THAT(r.err, !Contains("Traceback"));
    REQUIRE_THAT(r.err, Contains("richlazy: error: " + expected));
    REQUIRE_FALSE(fs::exists(exp + "/report"));
  };
  SECTION("bytes that are not text") {
    testing::write_text(metrics, std::string("step,loss\n0,\xff\xfe\x80" "garbage\n"));
    report_error(metrics + ": not a richlazy metrics.csv (not UTF-8 text");
  }
  SECTION("a NUL byte") {  // csv.Error in some Pythons, a field count in others: one line either way
    testing::write_text(metrics, std::string("step,loss\n0,1\0,2\n", 17));
    report_error(metrics + ":");
  }
  SECTION("a column twice") {
    testing::write_text(metrics, "step,loss,step\n0,1,0\n10,0.5,10\n");
    report_error(metrics + ":1: the column 'step' appears twice");
  }
  SECTION("an initial weight file that is not .npy") {
    testing::write_text(exp + "/runs/rank-2_seed-0/weights/W_rec_init.npy", "not numpy\n");
    report_error(exp + "/runs/rank-2_seed-0/weights/W_rec_init.npy: not a readable .npy matrix");
  }
  SECTION("anything else the plotter trips over: status 1, one line") {
    testing::write_text(tmp.file("bad.json"), "{}\n");
    const auto r = testing::run_command("/usr/bin/python3 " + report::plot_script_path() + " " + tmp.file("bad.json"));
    INFO(r.out << r.err);
    REQUIRE(r.status == 1);
    REQUIRE(lines(r.err) == 1);
    REQUIRE_THAT(r.err, !Contains("Traceback"));
    REQUIRE_THAT(r.err, Contains("KeyError"));
  }
}

TEST_CASE("summary.csv and metrics.csv quote every field that needs it", "[report]") {
  // Column names can come from metrics registered outside richlazy; quoting keeps the columns.
  train::MetricLog log;
  log.columns = {"loss", "odd,name", "say \"hi\"", "two\nlines"};
  log.steps = {0, 10};
  log.rows = {{1, 2, 3, 4}, {5, 6, 7, 8}};
  const auto rows = report::parse_csv(log.csv(), "metrics.csv");
  REQUIRE(rows.size() == 3);
  REQUIRE(rows[0] == std::vector<std::string>{"step", "loss", "odd,name", "say \"hi\"", "two\nlines"});
  REQUIRE(rows[2] == std::vector<std::string>{"10", "5", "6", "7", "8"});

  train::ExperimentPlan plan;
  plan.sweep_keys = {"init.W_rec"};
  train::ExperimentResult result;
  train::RunResult run;
  run.id = "W_rec-gaussian0";
  run.status = "failed: a, b\nc";
  run.swept = {{"init.W_rec", "{name: gaussian, gain: 1}"}};
  run.columns = {"loss", "odd,name"};
  run.final_values = {0.5, 0.25};
  result.runs.push_back(run);
  const auto summary = report::parse_csv(train::summary_csv(plan.sweep_keys, result), "summary.csv");
  REQUIRE(summary.size() == 2);
  REQUIRE(summary[0] == std::vector<std::string>{"run_id", "init.W_rec", "status", "loss", "odd,name", "steps",
                                                 "wall_seconds", "ms_per_iteration", "metric_seconds",
                                                 "init_spectral_radius", "init_erank_eig", "init_loss",
                                                 "init_hidden_norm_ratio", "init_grad_norm"});
  REQUIRE(summary[1].size() == summary[0].size());
  REQUIRE(summary[1][1] == "{name: gaussian, gain: 1}");
  REQUIRE(summary[1][2] == "failed: a, b\nc");
  REQUIRE(summary[1][4] == "0.25");
  REQUIRE(csv_field(" padded") == "\" padded\"");
  REQUIRE(csv_field("plain-name_1.5@x") == "plain-name_1.5@x");
}
