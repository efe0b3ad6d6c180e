// json.cpp — recursive-descent JSON (RFC 8259) with a depth limit.
#include "json.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "gcam/error.h"

namespace gcam::weights {

const Json* Json::find(const std::string& key) const {
  for (const auto& field : fields)
    if (field.first == key) return &field.second;
  return nullptr;
}

namespace {

constexpr int kMaxDepth = 64;
constexpr uint64_t kBudgetFloor = uint64_t{16} << 20, kBudgetPerByte = 4;

class Parser {
 public:
  Parser(const char* text, uint64_t length, const std::string& where)
      : s_(text), n_(length), where_(where), budget_(kBudgetFloor + kBudgetPerByte * length) {}

  Json document() {
    Json v = value(0);
    end_of_document();
    return v;
  }

  void each_field(const JsonField& field) {
    expect('{');
    if (peek() == '}') {
      ++pos_;
    } else {
      while (true) {
        if (peek() != '"') fail("expected a key");
        std::string key = string();
        expect(':');
        spent_ = 0;  // each field within the budget on its own: the ones before it are the caller's now
        field(std::move(key), value(1));
        if (peek() == ',') { ++pos_; continue; }
        expect('}');
        break;
      }
    }
    end_of_document();
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(detail::concat(where_, ": JSON byte ", pos_, ": ", what));
  }
  // Counts `bytes` more of memory against the budget (json.h).
  void charge(uint64_t bytes) {
    spent_ += bytes;
    if (spent_ > budget_)
      fail(detail::concat("the parsed values would take more than ", budget_ >> 20, " MiB (16 MiB + 4 × the text's length)"));
  }
  void end_of_document() {
    skip_space();
    if (pos_ != n_) fail("unexpected text after the document");
  }
  void skip_space() {
    while (pos_ < n_ && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  char peek() {
    skip_space();
    if (pos_ >= n_) fail("unexpected end");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  bool literal(const char* word) {
    size_t len = std::char_traits<char>::length(word);
    if (n_ - pos_ >= len && std::equal(word, word + len, s_ + pos_)) {
      pos_ += len;
      return true;
    }
    return false;
  }

  Json value(int depth) {
    if (depth > kMaxDepth) fail("nested too deeply");
    charge(sizeof(Json));
    Json v;
    const char c = peek();
    if (c == '{') {
      v.kind = Json::Kind::Object;
      ++pos_;
      if (peek() == '}') return ++pos_, v;
      while (true) {
        if (peek() != '"') fail("expected a key");
        std::string key = string();
        charge(key.size());
        expect(':');
        v.fields.emplace_back(std::move(key), value(depth + 1));
        charge(sizeof(Json));  // the field's slot: a vector holds up to twice its fields while it grows
        if (peek() == ',') { ++pos_; continue; }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Json::Kind::Array;
      ++pos_;
      if (peek() == ']') return ++pos_, v;
      while (true) {
        v.items.push_back(value(depth + 1));
        charge(sizeof(Json));  // the item's slot, as above
        if (peek() == ',') { ++pos_; continue; }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Json::Kind::String;
      v.text = string();
      charge(v.text.size());
      return v;
    }
    if (literal("true")) { v.kind = Json::Kind::Bool; v.boolean = true; return v; }
    if (literal("false")) { v.kind = Json::Kind::Bool; return v; }
    if (literal("null")) return v;
    return number();
  }

  Json number() {
    const uint64_t start = pos_;
    bool integer = true;
    if (pos_ < n_ && s_[pos_] == '-') ++pos_;
    if (pos_ >= n_ || !std::isdigit(static_cast<unsigned char>(s_[pos_]))) fail("expected a value");
    while (pos_ < n_ && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ < n_ && s_[pos_] == '.') {
      integer = false;
      ++pos_;
      while (pos_ < n_ && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    if (pos_ < n_ && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < n_ && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      while (pos_ < n_ && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    const std::string digits(s_ + start, pos_ - start);
    Json v;
    v.kind = Json::Kind::Number;
    v.number = std::strtod(digits.c_str(), nullptr);
    if (integer) {
      errno = 0;
      char* end = nullptr;
      const long long i = std::strtoll(digits.c_str(), &end, 10);
      v.is_integer = errno == 0;  // an integer too large for int64 stays a plain number
      v.integer = i;
    }
    return v;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  uint32_t hex4() {
    if (n_ - pos_ < 4) fail("short \\u escape");
    uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      cp <<= 4;
      if (h >= '0' && h <= '9') cp |= h - '0';
      else if (h >= 'a' && h <= 'f') cp |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') cp |= h - 'A' + 10;
      else fail("bad \\u escape");
    }
    return cp;
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= n_) fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= n_) fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && n_ - pos_ >= 6 && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
            pos_ += 2;
            const uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }

  const char* s_;
  uint64_t n_;
  uint64_t pos_ = 0;
  const std::string& where_;
  uint64_t budget_, spent_ = 0;  // bytes
};

}  // namespace

Json parse_json(const char* text, uint64_t length, const std::string& where) {
  return Parser(text, length, where).document();
}

void parse_json_fields(const char* text, uint64_t length, const std::string& where, const JsonField& field) {
  Parser(text, length, where).each_field(field);
}

}  // namespace gcam::weights
