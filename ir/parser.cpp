#include "loom/ir/parser.h"

#include "loom/ir/attribute_schema.h"
#include "loom/ir/large_stack.h"

#include <cctype>
#include <charconv>
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>

#include "loom/ir/kernel_shape.h"
#include "loom/ir/type_inference.h"

namespace loom::ir {

namespace {

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

/// "f32[3]", "(f32[3], f64[])" or "()": a node's result types in messages (a grad with num_wrt = 0 has none).
std::string types_text(const std::vector<TensorType>& types) {
  if (types.size() == 1) return types[0].str();
  std::string text;
  for (const TensorType& t : types) text += (text.empty() ? "" : ", ") + t.str();
  return "(" + text + ")";
}

/// A recursive-descent parser over the characters of the text; it tracks line and column for errors.
class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  Graph parse() {
    Graph g = parse_function();
    skip_space();
    if (pos_ != text_.size()) fail("expected the end of the input after the function");
    return g;
  }

 private:
  /// One function; a fused node's body is a function nested in its parent, with its own value names.
  Graph parse_function() {
    keyword("func");
    expect('@');
    Graph g(name());
    Graph* outer_graph = graph_;
    std::unordered_map<std::string, NodeId> outer_values;
    std::swap(outer_values, values_);
    graph_ = &g;
    expect('(');
    g.inputs = parameters(OpKind::input);
    if (try_keyword("state")) {
      expect('(');
      g.state = parameters(OpKind::state);
    }
    expect("->");
    expect('(');
    std::vector<TensorType> output_types;
    if (!try_expect(')')) {
      do output_types.push_back(type()); while (try_expect(','));
      expect(')');
    }
    expect('{');
    while (!at_keyword("return")) node();
    skip_space();
    std::size_t return_line = line_, return_column = column_;
    keyword("return");
    if (peek() == '%') {
      do g.outputs.push_back(use()); while (try_expect(','));
    }
    if (g.outputs.size() != output_types.size())
      fail_at(return_line, return_column, fmt::format("the signature declares {} outputs, return lists {}",
                                                      output_types.size(), g.outputs.size()));
    for (std::size_t i = 0; i < output_types.size(); ++i)
      if (g.type(g.outputs[i]) != output_types[i])
        fail_at(return_line, return_column, fmt::format("output {} is {}, the signature declares {}", i,
                                                        g.type(g.outputs[i]).str(), output_types[i].str()));
    if (try_keyword("update")) {
      do {
        Value target = use();
        if (g.node(target).op != OpKind::state) fail("update target must be a state parameter");
        expect('=');
        g.updates.push_back({target.node, use()});
      } while (try_expect(','));
    }
    expect('}');
    graph_ = outer_graph;
    values_ = std::move(outer_values);
    return g;
  }

  // ---- characters --------------------------------------------------------------------------------------------
  char peek() {
    skip_space();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  void advance() {
    if (text_[pos_++] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
  }
  /// Skips whitespace and `//` comments (lit's RUN and CHECK lines).
  void skip_space() {
    while (pos_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        advance();
      } else if (text_.substr(pos_, 2) == "//") {
        while (pos_ < text_.size() && text_[pos_] != '\n') advance();
      } else {
        break;
      }
    }
  }
  std::string found() {
    skip_space();
    if (pos_ >= text_.size()) return "the end of the input";
    std::size_t end = pos_;
    while (end < text_.size() && end - pos_ < 12 && !std::isspace(static_cast<unsigned char>(text_[end]))) ++end;
    return fmt::format("'{}'", text_.substr(pos_, end - pos_));
  }
  [[noreturn]] void fail_at(std::size_t line, std::size_t column, const std::string& message) {
    throw Error(fmt::format("{}:{}:{}: {}", source_, line, column, message));
  }
  [[noreturn]] void fail(const std::string& message) {
    skip_space();
    fail_at(line_, column_, message);
  }
  [[noreturn]] void expected(std::string_view what) { fail(fmt::format("expected {}, found {}", what, found())); }

  bool try_expect(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    for (std::size_t i = 0; i < token.size(); ++i) advance();
    return true;
  }
  bool try_expect(char c) { return try_expect(std::string_view(&c, 1)); }
  void expect(std::string_view token) {
    if (!try_expect(token)) expected(fmt::format("'{}'", token));
  }
  void expect(char c) { expect(std::string_view(&c, 1)); }

  std::string name() {
    skip_space();
    std::size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) advance();
    if (start == pos_) expected("a name");
    return std::string(text_.substr(start, pos_ - start));
  }
  bool at_keyword(std::string_view word) {
    skip_space();
    return text_.substr(pos_, word.size()) == word &&
           (pos_ + word.size() == text_.size() || !is_name_char(text_[pos_ + word.size()]));
  }
  bool try_keyword(std::string_view word) {
    if (!at_keyword(word)) return false;
    for (std::size_t i = 0; i < word.size(); ++i) advance();
    return true;
  }
  void keyword(std::string_view word) {
    if (!try_keyword(word)) expected(fmt::format("'{}'", word));
  }

  // ---- grammar -----------------------------------------------------------------------------------------------
  TensorType type() {
    std::size_t line = line_, column = column_;
    std::string dtype_name = name();
    auto dtype = parse_dtype(dtype_name);
    if (!dtype) fail(fmt::format("unknown dtype '{}' (expected f32, f64, i32, i64 or b8)", dtype_name));
    expect('[');
    Shape shape;
    if (!try_expect(']')) {
      do shape.push_back(integer()); while (try_expect(','));
      expect(']');
    }
    TensorType t{*dtype, shape};
    if (auto why = unrepresentable(t)) fail_at(line, column, fmt::format("impossible type: {}", *why));
    return t;
  }

  /// An optional buffer annotation after a type (see ir/buffer.h).
  std::optional<Buffer> buffer() {
    if (!try_expect('@')) return std::nullopt;
    std::string kind = name();
    Buffer b;
    if (kind == "input") {
      b.kind = Buffer::Kind::input;
    } else if (kind == "constant") {
      b.kind = Buffer::Kind::constant;
    } else if (kind == "arena") {
      expect('[');
      b.offset = integer();
      expect(':');
      b.end = integer();
      expect(']');
      if (b.offset < 0 || b.end < b.offset) fail(fmt::format("arena range [{}:{}] is empty or negative", b.offset, b.end));
    } else if (kind == "output") {
      b.kind = Buffer::Kind::output;
      expect('(');
      b.index = static_cast<std::uint32_t>(integer());
      expect(')');
    } else if (kind == "state") {
      b.kind = Buffer::Kind::state;
      if (try_expect('(')) {
        Value target = use();
        auto slot = std::find(graph_->state.begin(), graph_->state.end(), target.node);
        if (slot == graph_->state.end()) fail("@state(...) must name a state parameter");
        b.index = static_cast<std::uint32_t>(slot - graph_->state.begin());
        expect(')');
      }
    } else {
      fail(fmt::format("unknown buffer '@{}' (expected @input, @state, @constant, @arena[a:b] or @output(k))", kind));
    }
    return b;
  }

  /// The buffers of a node's results: all annotated or none.
  std::vector<Buffer> buffers(const std::vector<std::optional<Buffer>>& annotated) {
    std::vector<Buffer> out;
    for (const auto& b : annotated)
      if (b) out.push_back(*b);
    if (!out.empty() && out.size() != annotated.size()) fail("either every result has a buffer annotation or none");
    return out;
  }

  std::int64_t integer() {
    AttrValue v = number();
    if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
    expected("an integer");
  }

  /// An integer, or a float when it has '.', an exponent, or is inf/nan.
  AttrValue number() {
    skip_space();
    std::size_t start = pos_;
    if (pos_ < text_.size() && (text_[pos_] == '-' || text_[pos_] == '+')) advance();
    for (std::string_view special : {"inf", "nan"})
      if (text_.substr(pos_, special.size()) == special) {
        for (std::size_t i = 0; i < special.size(); ++i) advance();
        double v = special == "inf" ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
        return text_[start] == '-' ? -v : v;
      }
    bool is_float = false;
    while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
                                   text_[pos_] == 'e' || text_[pos_] == 'E' ||
                                   ((text_[pos_] == '-' || text_[pos_] == '+') && (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E')))) {
      is_float = is_float || !std::isdigit(static_cast<unsigned char>(text_[pos_]));
      advance();
    }
    std::string_view digits = text_.substr(start, pos_ - start);
    if (digits.empty() || digits == "-" || digits == "+") {
      pos_ = start;
      expected("a number");
    }
    if (is_float) {
      double v = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec != std::errc() || end != digits.data() + digits.size()) fail(fmt::format("malformed number '{}'", digits));
      return v;
    }
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(digits.data() + (digits[0] == '+'), digits.data() + digits.size(), v);
    if (ec != std::errc()) fail(fmt::format("malformed integer '{}'", digits));
    return v;
  }

  std::string string_literal() {
    expect('"');
    std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\n') advance();
    if (pos_ >= text_.size() || text_[pos_] != '"') fail("unterminated string");
    std::string s(text_.substr(start, pos_ - start));
    advance();
    return s;
  }

  AttrValue attr_value() {
    char c = peek();
    if (c == '"') return string_literal();
    if (c == '[') {
      expect('[');
      std::vector<std::int64_t> list;
      if (!try_expect(']')) {
        do list.push_back(integer()); while (try_expect(','));
        expect(']');
      }
      return list;
    }
    return number();
  }

  std::vector<NodeId> parameters(OpKind kind) {
    std::vector<NodeId> ids;
    if (try_expect(')')) return ids;
    do {
      expect('%');
      std::string n = name();
      expect(':');
      TensorType t = type();
      NodeId id = graph_->add_typed_node(kind, {}, {}, {t}, SourceLoc{}, n);
      if (auto b = buffer()) {
        if (b->kind != (kind == OpKind::input ? Buffer::Kind::input : Buffer::Kind::state))
          fail(fmt::format("%{} is {}: its buffer is @{}", n, op_name(kind), op_name(kind)));
        b->index = static_cast<std::uint32_t>(ids.size());
        graph_->node(id).buffers = {*b};
      }
      define(n, id);
      ids.push_back(id);
    } while (try_expect(','));
    expect(')');
    return ids;
  }

  void define(const std::string& n, NodeId id) {
    if (!values_.emplace(n, id).second) fail(fmt::format("%{} is defined twice", n));
  }

  Value use() {
    skip_space();
    std::size_t line = line_, column = column_;
    expect('%');
    std::string n = name();
    auto it = values_.find(n);
    if (it == values_.end()) fail_at(line, column, fmt::format("use of undefined value %{}", n));
    Value v{it->second, 0};
    std::size_t results = graph_->node(it->second).results.size();
    if (try_expect('#')) v.index = static_cast<std::uint32_t>(integer());
    else if (results > 1) fail(fmt::format("%{} has {} results; name one as %{}#k", n, results, n));
    if (v.index >= results) fail_at(line, column, fmt::format("%{} has no result {}", n, v.index));
    return v;
  }

  void node() {
    skip_space();
    std::size_t line = line_, column = column_;
    expect('%');
    std::string n = name();
    std::size_t declared_results = 1;
    if (try_expect(':')) declared_results = static_cast<std::size_t>(integer());
    expect('=');
    skip_space();
    std::size_t op_line = line_, op_column = column_;
    std::string op_text = name();
    auto op = parse_op(op_text);
    if (!op) fail_at(op_line, op_column, fmt::format("unknown op '{}'", op_text));
    expect('(');
    std::vector<Value> operands;
    if (!try_expect(')')) {
      do operands.push_back(use()); while (try_expect(','));
      expect(')');
    }
    Attrs attrs;
    if (try_expect('{')) {
      do {
        std::string key = name();
        expect('=');
        attrs.set(key, attr_value());
      } while (try_expect(','));
      expect('}');
    }
    expect(':');
    std::vector<TensorType> results;
    std::vector<std::optional<Buffer>> annotated;
    auto result = [&] {
      results.push_back(type());
      annotated.push_back(buffer());
    };
    if (try_expect('(')) {
      do result(); while (try_expect(','));
      expect(')');
    } else {
      result();
    }
    if (results.size() != declared_results)
      fail_at(line, column, fmt::format("%{} declares {} results but has {} types", n, declared_results, results.size()));
    SourceLoc loc;
    if (try_keyword("loc")) {
      expect('(');
      loc.file = string_literal();
      expect(':');
      loc.line = static_cast<std::uint32_t>(integer());
      expect(')');
    }
    std::shared_ptr<const Graph> body;
    if (try_expect('{')) {
      // fuse never nests kernels; a limit keeps hostile text from recursing the parser off its stack.
      if (++nesting_ > kMaxNesting) fail_at(line, column, fmt::format("bodies nested more than {} deep", kMaxNesting));
      body = std::make_shared<const Graph>(parse_function());
      --nesting_;
      expect('}');
    }
    OpCategory category = op_info(*op).category;
    if (category == OpCategory::Param) fail_at(line, column, "input and state are declared in the signature");
    if (category != OpCategory::Constant) {
      std::vector<TensorType> inferred;
      try {
        inferred = infer_types(*graph_, *op, operands, attrs, SourceLoc{}, body.get());
      } catch (const Error& e) {
        fail_at(line, column, e.what());
      }
      if (inferred != results)
        fail_at(line, column, fmt::format("%{} is declared {} but its operands give {}", n, types_text(results), types_text(inferred)));
    } else if (!operands.empty()) {
      fail_at(line, column, "constant takes no operands");
    } else {
      try {
        check_attributes(*op, attrs, SourceLoc{});
      } catch (const Error& e) {
        fail_at(line, column, e.what());
      }
    }
    bool numbered = std::isdigit(static_cast<unsigned char>(n[0]));
    std::string declared_kind = body ? attrs.get_string("kind") : "";
    NodeId id = graph_->add_typed_node(*op, std::move(operands), std::move(attrs), std::move(results), loc, numbered ? "" : n);
    if (body) {
      try {
        attach_body(graph_->node(id), std::move(body));
      } catch (const Error& e) {
        fail_at(line, column, e.what());
      }
      std::string_view kind = to_string(graph_->node(id).kernel->kind);
      if (declared_kind != kind)
        fail_at(line, column, fmt::format("%{} is declared kind = \"{}\" but its body is a {} kernel", n, declared_kind, kind));
    }
    graph_->node(id).buffers = buffers(annotated);
    define(n, id);
  }

  static constexpr int kMaxNesting = 64;
  std::string_view text_, source_;
  std::size_t pos_ = 0, line_ = 1, column_ = 1;
  int nesting_ = 0;
  Graph* graph_ = nullptr;
  std::unordered_map<std::string, NodeId> values_;
};

}  // namespace

Graph parse(std::string_view text, std::string_view source_name) {
  Graph g("");
  run_on_large_stack([&] { g = Parser(text, source_name).parse(); });  // deep bodies and long chains recurse
  return g;
}

bool is_identifier(std::string_view name) { return !name.empty() && std::all_of(name.begin(), name.end(), is_name_char); }

}  // namespace loom::ir
