#pragma once

// A scripted HttpClient: answers from a table of URLs and records every
// request, for tests of Horreum lookups and notifications.

#include <map>
#include <string>
#include <vector>

#include "alerts/http_client.hpp"

namespace perfbisect::testing {

class FakeHttpClient final : public HttpClient {
public:
    struct Call {
        std::string method;
        std::string url;
        HttpHeaders headers;
        std::string body;
    };

    HttpReply get(const std::string& url, const HttpHeaders& headers, Seconds) override {
        calls.push_back({"GET", url, headers, ""});
        return answer(url);
    }
    HttpReply post(const std::string& url, const std::string& body, const std::string&,
                   const HttpHeaders& headers, Seconds) override {
        calls.push_back({"POST", url, headers, body});
        return answer(url);
    }

    // Answers for a URL, in turn; the last one repeats.
    std::map<std::string, std::vector<HttpReply>> replies;
    std::vector<Call> calls;

private:
    HttpReply answer(const std::string& url) {
        auto it = replies.find(url);
        if (it == replies.end() || it->second.empty()) {
            return HttpReply{404, "{}", ""};
        }
        HttpReply reply = it->second.front();
        if (it->second.size() > 1) {
            it->second.erase(it->second.begin());
        }
        return reply;
    }
};

}  // namespace perfbisect::testing
