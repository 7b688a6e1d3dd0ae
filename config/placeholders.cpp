#include "config/placeholders.hpp"

#include "util/text.hpp"

namespace perfbisect {
namespace {

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

// Calls on_text for literal text and on_name for each placeholder.
template <typename OnText, typename OnName>
void scan(const std::string& text, OnText on_text, OnName on_name) {
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
            on_text(std::string(1, c));
            i += 2;
            continue;
        }
        if (c == '{' && (i == 0 || text[i - 1] != '$')) {
            std::size_t end = i + 1;
            while (end < text.size() && is_name_char(text[end])) {
                ++end;
            }
            if (end > i + 1 && end < text.size() && text[end] == '}') {
                on_name(text.substr(i + 1, end - i - 1));
                i = end + 1;
                continue;
            }
        }
        on_text(std::string(1, c));
        ++i;
    }
}

}  // namespace

std::vector<std::string> find_placeholders(const std::string& text) {
    std::vector<std::string> names;
    scan(text, [](const std::string&) {}, [&](const std::string& name) { names.push_back(name); });
    return names;
}

std::string expand_placeholders(const std::string& text,
                                const std::map<std::string, std::string>& values,
                                bool quote) {
    std::string out;
    out.reserve(text.size());
    scan(
        text, [&](const std::string& literal) { out += literal; },
        [&](const std::string& name) {
            auto it = values.find(name);
            if (it == values.end()) {
                out += "{" + name + "}";
            } else {
                out += quote ? shell_quote(it->second) : it->second;
            }
        });
    return out;
}

}  // namespace perfbisect
