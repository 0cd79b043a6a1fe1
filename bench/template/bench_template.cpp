// Template engine throughput on one core: parse the realistic ~3 KB cold email of
// bench/template/email.liquid, then render it for N leads as an HTML body (escaping, spintax,
// conditions, defaults), first with contexts built in advance, then building each lead's
// context inside the loop as the campaign engine does. Rates are per CPU-second of this
// process, so a busy machine slows the wall clock but not the figures.
// Usage: bench_template TEMPLATE_FILE [N]   (N default 200000)
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/common/bench_util.h"
#include "kiln/template/template.h"

namespace {

using kiln::tmpl::RenderContext;
using kiln::tmpl::RenderOptions;
using kiln::tmpl::Template;

using kiln::bench::CpuSeconds;

struct Lead {
  std::string first_name, company, city, employees, title, timezone, country, industry, tool;
};

Lead MakeLead(int i) {
  static const char* kFirst[] = {"marie", "  JOSÉ ", "bob", "", "Łukasz", "ann-kathrin", "Tom"};
  static const char* kCompany[] = {"Acme & Sons",   "Bäckerei Müller", "",
                                   "Globex <Labs>", "Initech",         "Umbrella Corp"};
  static const char* kCity[] = {"München", "", "Lisbon", "New York", "Paris"};
  static const char* kTool[] = {"", "Lemlist", "Instantly", "", "Smartlead"};
  Lead l;
  l.first_name = kFirst[i % 7];
  l.company = kCompany[i % 6];
  l.city = kCity[i % 5];
  l.employees = std::to_string(10 + (i * 37) % 900);
  l.title = i % 3 == 0 ? "" : "Head of Sales";
  l.timezone = i % 2 == 0 ? "Europe/Berlin" : "";
  l.country = i % 4 == 0 ? "" : "Germany";
  l.industry = i % 5 == 0 ? "" : "Logistics";
  l.tool = kTool[i % 5];
  return l;
}

void Fill(const Lead& l, int i, RenderContext* c) {
  c->Set("first_name", l.first_name)
      .Set("company", l.company)
      .Set("city", l.city)
      .Set("employees", l.employees)
      .Set("title", l.title)
      .Set("timezone", l.timezone)
      .Set("country", l.country)
      .Set("custom.Industry Name", l.industry)
      .Set("custom.tool", l.tool)
      .SetSafe("unsubscribe_url", "https://t.kiln.example/u/" + std::to_string(i) + "?s=2");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_template TEMPLATE_FILE [N]\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string source = ss.str();
  if (source.empty()) {
    std::fprintf(stderr, "bench_template: cannot read %s\n", argv[1]);
    return 1;
  }
  const int n = argc > 2 ? std::atoi(argv[2]) : 200000;
  const int kLeads = 1000;

  // Parse.
  const int parses = 5000;
  double start = CpuSeconds();
  size_t groups = 0;
  for (int i = 0; i < parses; ++i) {
    auto t = Template::Parse(source);
    if (!t.ok()) {
      std::fprintf(stderr, "parse failed: %s\n", t.status().ToString().c_str());
      return 1;
    }
    groups += t->spin_group_count();
  }
  const double parse_s = CpuSeconds() - start;
  const Template t = *Template::Parse(source);

  RenderContext sender;
  sender.Set("sender.first_name", "Ana")
      .SetSafe("sender.signature",
               "<p>Best,<br>Ana Ruiz<br><span style=\"color:#888\">Kiln &middot; Lisbon</span></p>")
      .Set("campaign_slug", "q3 follow-up");
  std::vector<Lead> leads;
  std::vector<RenderContext> contexts;
  leads.reserve(kLeads);
  contexts.reserve(kLeads);
  for (int i = 0; i < kLeads; ++i) {
    leads.push_back(MakeLead(i));
    contexts.emplace_back(&sender);
    Fill(leads.back(), i, &contexts.back());
  }

  RenderOptions opt;
  opt.html_escape_values = true;
  size_t bytes = 0, missing = 0;
  start = CpuSeconds();
  for (int i = 0; i < n; ++i) {
    opt.spin_seed = kiln::tmpl::SpinSeed({static_cast<uint64_t>(i % kLeads), 2, 1});
    auto r = t.Render(contexts[static_cast<size_t>(i % kLeads)], opt);
    if (!r.ok()) {
      std::fprintf(stderr, "render failed: %s\n", r.status().ToString().c_str());
      return 1;
    }
    bytes += r->text.size();
    missing += r->missing.size();
  }
  const double render_s = CpuSeconds() - start;

  size_t bytes2 = 0;
  RenderContext lead_context(&sender);
  start = CpuSeconds();
  for (int i = 0; i < n; ++i) {
    lead_context.Clear();
    Fill(leads[static_cast<size_t>(i % kLeads)], i % kLeads, &lead_context);
    opt.spin_seed = kiln::tmpl::SpinSeed({static_cast<uint64_t>(i % kLeads), 2, 1});
    auto r = t.Render(lead_context, opt);
    if (!r.ok()) return 1;
    bytes2 += r->text.size();
  }
  const double build_s = CpuSeconds() - start;

  std::printf("template: %zu bytes, %zu spintax groups, %zu variables\n", source.size(),
              groups / parses, t.variables().size());
  std::printf("kiln parse: %.0f parses/s\n", parses / parse_s);
  std::printf(
      "kiln render: %.0f renders/s (%.0f MB/s of output, %.0f bytes per email, %.2f missing per "
      "email)\n",
      n / render_s, bytes / render_s / 1e6, static_cast<double>(bytes) / n,
      static_cast<double>(missing) / n);
  std::printf("kiln build+render: %.0f renders/s\n", n / build_s);
  return bytes2 == bytes ? 0 : 1;
}
