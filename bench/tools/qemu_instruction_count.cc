// Counts the guest instructions a program executed under qemu-user, from qemu's own log of
// `-d in_asm,exec,nochain`: each translated block is listed once with its instructions (IN:),
// and with chaining off every execution of a block is logged (Trace ... [x/PC/...]). The count is
// the sum over executions of the block's length. (A block left early by a signal or fault would
// be over-counted; a segmentation run has none.)
//
//   qemu_instruction_count LOG [BEGIN END [TOP]] [--split MARK] [--symbols FILE]
//
// LOG may be a FIFO qemu writes to (-D LOG). Prints: instructions, of them dot product
// instructions (UDOT, SDOT), block executions, and executions of blocks never seen translated.
//
// With BEGIN and END (function names), only blocks executed after a block of BEGIN and before the
// next block of END count.
// With TOP, also the TOP functions that executed the most instructions, by the symbol qemu names
// for each block. qemu names only the main executable's functions; --symbols FILE names the rest
// (shared libraries' code), lines of `function START END NAME` or `object START END NAME` (hex
// addresses, END exclusive): a block takes the function that contains it, else the object.
// With --split MARK, also the instructions of each stretch between calls of the function MARK:
// `segment I INSTRUCTIONS DOT` lines (segment 0 runs from BEGIN to the first call, the last from
// the last call to END), one per op when MARK is called after each op.
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
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

// Address ranges with names, from --symbols: functions first, objects (whole libraries) as the
// fallback.
struct Symbols {
  struct Range {
    uint64_t start, end;
    std::string name;
  };
  std::vector<Range> functions, objects;  // functions sorted by start

  bool load(const char* path) {
    std::ifstream in(path);
    if (!in) return false;
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string kind, start, end, name;
      if (!(fields >> kind >> start >> end >> name)) continue;
      Range r{std::strtoull(start.c_str(), nullptr, 16), std::strtoull(end.c_str(), nullptr, 16),
              name};
      (kind == "object" ? objects : functions).push_back(std::move(r));
    }
    std::sort(functions.begin(), functions.end(),
              [](const Range& a, const Range& b) { return a.start < b.start; });
    return true;
  }
  // The function containing pc, else the object, else empty.
  std::string_view lookup(uint64_t pc) const {
    auto it = std::upper_bound(functions.begin(), functions.end(), pc,
                               [](uint64_t v, const Range& r) { return v < r.start; });
    if (it != functions.begin() && pc < std::prev(it)->end) return std::prev(it)->name;
    for (const Range& r : objects)
      if (pc >= r.start && pc < r.end) return r.name;
    return {};
  }
};

// Whether one `0xPC:  ENCODING  MNEMONIC OPERANDS` line of qemu's in_asm log is an AArch64 UDOT
// or SDOT (vector or by element), told by its encoding: qemu 7.2's disassembler does not know them
// and prints `.byte`.
bool is_dot_product(const char* colon, const char* end) {
  const char* p = colon + 1;
  while (p < end && *p == ' ') ++p;
  uint64_t encoding = 0;
  if (!parse_hex(p, end, &encoding)) return false;
  const uint32_t vector = static_cast<uint32_t>(encoding) & 0xBFE0FC00u;   // size 10, bit 21 0
  const uint32_t element = static_cast<uint32_t>(encoding) & 0xBFC0F400u;  // size 10, opcode 1110
  return vector == 0x2E809400u || vector == 0x0E809400u || element == 0x2F80E000u ||
         element == 0x0F80E000u;
}

struct Block {
  uint32_t instructions = 0;
  uint32_t dot = 0;       // UDOT and SDOT among them
  int32_t function = -1;  // index into Counter::function_names
};

struct Counter {
  std::unordered_map<uint64_t, Block> blocks;
  bool in_block = false;
  uint64_t block_pc = 0;
  Block block;
  std::string block_symbol;
  uint64_t instructions = 0, dot = 0, executions = 0, unknown = 0;
  std::string begin, end_marker;  // empty: count everything
  std::string split;              // empty: no segments
  const Symbols* symbols = nullptr;
  bool by_function = false;
  std::vector<std::string> function_names;
  std::unordered_map<std::string, int32_t> function_ids;
  std::vector<uint64_t> function_instructions;
  std::vector<std::pair<uint64_t, uint64_t>> segments;  // instructions, dot
  bool in_split = false;
  bool counting = true;
  int windows = 0;

  int32_t function_id(std::string_view name) {
    auto [it, inserted] =
        function_ids.emplace(std::string(name), static_cast<int32_t>(function_names.size()));
    if (inserted) {
      function_names.emplace_back(name);
      function_instructions.push_back(0);
    }
    return it->second;
  }
  void end_block() {
    if (in_block && block.instructions > 0) {
      std::string_view name = block_symbol;
      if (name.empty() && symbols != nullptr) name = symbols->lookup(block_pc);
      block.function = by_function ? function_id(name) : -1;
      blocks[block_pc] = block;
    }
    in_block = false;
  }
  void trace(const char* p, const char* end, size_t n) {
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
    if (!split.empty()) {
      const bool marker = symbol == split;
      if (segments.empty() || (marker && !in_split)) segments.emplace_back(0, 0);
      in_split = marker;
    }
    const char* slash = static_cast<const char*>(std::memchr(open, '/', end - open));
    uint64_t pc = 0;
    if (slash == nullptr || !parse_hex(slash + 1, end, &pc)) return;
    ++executions;
    const auto it = blocks.find(pc);
    if (it == blocks.end()) {
      ++unknown;
      return;
    }
    const Block& b = it->second;
    instructions += b.instructions;
    dot += b.dot;
    if (b.function >= 0) function_instructions[b.function] += b.instructions;
    if (!segments.empty()) {
      segments.back().first += b.instructions;
      segments.back().second += b.dot;
    }
  }
  void line(const char* p, const char* end) {
    const size_t n = static_cast<size_t>(end - p);
    if (n >= 6 && std::memcmp(p, "Trace ", 6) == 0) {
      trace(p, end, n);
      return;
    }
    if (n >= 3 && std::memcmp(p, "IN:", 3) == 0) {
      end_block();
      in_block = true;
      block = Block{};
      const char* name = p + 3;
      while (name < end && *name == ' ') ++name;
      block_symbol.assign(name, end);
      return;
    }
    if (in_block && n > 2 && p[0] == '0' && p[1] == 'x') {
      const char* colon = static_cast<const char*>(std::memchr(p, ':', n));
      uint64_t pc = 0;
      if (colon == nullptr || !parse_hex(p + 2, colon, &pc)) return;
      if (block.instructions == 0) block_pc = pc;
      ++block.instructions;
      if (is_dot_product(colon, end)) ++block.dot;
      return;
    }
    if (n == 0) end_block();
  }
};

constexpr const char* kUsage =
    "usage: qemu_instruction_count LOG [BEGIN END [TOP]] [--split MARK] [--symbols FILE]\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<const char*> positional;
  const char* split = nullptr;
  const char* symbols_path = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--split") == 0 && i + 1 < argc) {
      split = argv[++i];
    } else if (std::strcmp(argv[i], "--symbols") == 0 && i + 1 < argc) {
      symbols_path = argv[++i];
    } else {
      positional.push_back(argv[i]);
    }
  }
  const size_t n = positional.size();
  if (n != 1 && n != 3 && n != 4) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  Counter counter;
  if (n >= 3) {
    counter.begin = positional[1];
    counter.end_marker = positional[2];
    counter.counting = false;
  }
  if (split != nullptr) counter.split = split;
  Symbols symbols;
  if (symbols_path != nullptr) {
    if (!symbols.load(symbols_path)) {
      std::fprintf(stderr, "qemu_instruction_count: cannot read %s\n", symbols_path);
      return 1;
    }
    counter.symbols = &symbols;
  }
  const int top = n == 4 ? std::atoi(positional[3]) : 0;
  counter.by_function = top > 0;
  std::FILE* f = std::fopen(positional[0], "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "qemu_instruction_count: cannot open %s: %s\n", positional[0],
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
  std::printf("instructions %" PRIu64 "\ndot_product_instructions %" PRIu64
              "\nblock_executions %" PRIu64 "\nunknown_blocks %" PRIu64 "\n",
              counter.instructions, counter.dot, counter.executions, counter.unknown);
  std::vector<std::pair<uint64_t, std::string>> ranked;
  for (size_t i = 0; i < counter.function_names.size(); ++i)
    ranked.emplace_back(counter.function_instructions[i], counter.function_names[i]);
  std::sort(ranked.rbegin(), ranked.rend());
  for (size_t i = 0; i < ranked.size() && i < static_cast<size_t>(top); ++i) {
    std::printf(
        "  %14" PRIu64 "  %5.1f%%  %s\n", ranked[i].first,
        100.0 * static_cast<double>(ranked[i].first) / static_cast<double>(counter.instructions),
        ranked[i].second.empty() ? "(no symbol)" : ranked[i].second.c_str());
  }
  for (size_t i = 0; i < counter.segments.size(); ++i) {
    std::printf("segment %zu %" PRIu64 " %" PRIu64 "\n", i, counter.segments[i].first,
                counter.segments[i].second);
  }
  if (!counter.begin.empty() && counter.windows != 1) {
    std::fprintf(stderr, "qemu_instruction_count: %s ran %d times, expected once\n",
                 counter.begin.c_str(), counter.windows);
    return 1;
  }
  return counter.unknown == 0 ? 0 : 1;
}
