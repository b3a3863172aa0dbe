// Counts the guest instructions a program executed under qemu-user, from qemu's own log of
// `-d in_asm,exec,nochain`: each translated block is listed once with its instructions (IN:),
// and with chaining off every execution of a block is logged (Trace ... [x/PC/...]). The count is
// the sum over executions of the block's length. (A block left early by a signal or fault would
// be over-counted; a segmentation run has none.)
//
//   qemu_instruction_count LOG [BEGIN END [TOP]]   (LOG may be a FIFO qemu writes to: -D LOG)
//
// With TOP, also the TOP functions that executed the most instructions (by the symbol qemu names
// for each block).
//
// With BEGIN and END (function names), only blocks executed after a block of BEGIN and before the
// next block of END count. Prints: instructions, block executions, and executions of blocks never
// seen translated.
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

bool parse_hex(const char* p, const char* end, uint64_t* value) {
  uint64_t v = 0;
  const char* start = p;
  for (; p < end; ++p) {
    const char c = *p;
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      break;
    }
    v = v * 16 + static_cast<uint64_t>(digit);
  }
  *value = v;
  return p > start;
}

struct Counter {
  std::unordered_map<uint64_t, uint32_t> block_length;
  bool in_block = false;
  uint64_t block_pc = 0;
  uint32_t block_insns = 0;
  uint64_t instructions = 0, executions = 0, unknown = 0;
  std::string begin, end_marker;  // empty: count everything
  bool by_function = false;
  std::unordered_map<std::string, uint64_t> function_instructions;
  bool counting = true;
  int windows = 0;

  void end_block() {
    if (in_block && block_insns > 0) block_length[block_pc] = block_insns;
    in_block = false;
  }
  void line(const char* p, const char* end) {
    const size_t n = static_cast<size_t>(end - p);
    if (n >= 6 && std::memcmp(p, "Trace ", 6) == 0) {
      end_block();
      const char* open = static_cast<const char*>(std::memchr(p, '[', n));
      if (open == nullptr) return;
      std::string_view symbol;
      if (const char* close = static_cast<const char*>(std::memchr(open, ']', end - open));
          close != nullptr && close + 2 <= end) {
        symbol = std::string_view(close + 2, static_cast<size_t>(end - close - 2));
      }
      if (!begin.empty()) {
        if (symbol == begin) {
          if (!counting) ++windows;
          counting = true;
        } else if (symbol == end_marker) {
          counting = false;
        }
        if (!counting) return;
      }
      const char* slash = static_cast<const char*>(std::memchr(open, '/', end - open));
      uint64_t pc = 0;
      if (slash == nullptr || !parse_hex(slash + 1, end, &pc)) return;
      ++executions;
      const auto it = block_length.find(pc);
      if (it == block_length.end()) {
        ++unknown;
      } else {
        instructions += it->second;
        if (by_function) function_instructions[std::string(symbol)] += it->second;
      }
      return;
    }
    if (n >= 3 && std::memcmp(p, "IN:", 3) == 0) {
      end_block();
      in_block = true;
      block_insns = 0;
      return;
    }
    if (in_block && n > 2 && p[0] == '0' && p[1] == 'x') {
      const char* colon = static_cast<const char*>(std::memchr(p, ':', n));
      uint64_t pc = 0;
      if (colon == nullptr || !parse_hex(p + 2, colon, &pc)) return;
      if (block_insns == 0) block_pc = pc;
      ++block_insns;
      return;
    }
    if (n == 0) end_block();
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: qemu_instruction_count LOG [BEGIN END [TOP]]\n");
    return 2;
  }
  Counter counter;
  if (argc >= 4) {
    counter.begin = argv[2];
    counter.end_marker = argv[3];
    counter.counting = false;
  }
  const int top = argc == 5 ? std::atoi(argv[4]) : 0;
  counter.by_function = top > 0;
  std::FILE* f = std::fopen(argv[1], "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "qemu_instruction_count: cannot open %s: %s\n", argv[1],
                 std::strerror(errno));
    return 1;
  }
  std::string pending;
  static char buffer[1 << 20];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, f)) > 0) {
    const char* p = buffer;
    const char* end = buffer + got;
    while (p < end) {
      const char* newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (newline == nullptr) {
        pending.append(p, end);
        break;
      }
      if (!pending.empty()) {
        pending.append(p, newline);
        counter.line(pending.data(), pending.data() + pending.size());
        pending.clear();
      } else {
        counter.line(p, newline);
      }
      p = newline + 1;
    }
  }
  std::fclose(f);
  counter.end_block();
  std::printf("instructions %" PRIu64 "\nblock_executions %" PRIu64 "\nunknown_blocks %" PRIu64
              "\n",
              counter.instructions, counter.executions, counter.unknown);
  std::vector<std::pair<uint64_t, std::string>> ranked;
  for (const auto& [name, n] : counter.function_instructions) ranked.emplace_back(n, name);
  std::sort(ranked.rbegin(), ranked.rend());
  for (size_t i = 0; i < ranked.size() && i < static_cast<size_t>(top); ++i) {
    std::printf("  %14" PRIu64 "  %5.1f%%  %s\n", ranked[i].first,
                100.0 * static_cast<double>(ranked[i].first) /
                    static_cast<double>(counter.instructions),
                ranked[i].second.c_str());
  }
  if (!counter.begin.empty() && counter.windows != 1) {
    std::fprintf(stderr, "qemu_instruction_count: %s ran %d times, expected once\n",
                 counter.begin.c_str(), counter.windows);
    return 1;
  }
  return counter.unknown == 0 ? 0 : 1;
}
