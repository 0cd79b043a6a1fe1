// kiln: the one binary. Parses the role and wires the object graph.
#include <cstdio>

#include "kiln/base/config.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fputs(kiln::SettingsMarkdown(kiln::AllSettings()).c_str(), stdout);
  return 0;
}
