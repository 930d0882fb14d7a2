#include "libs/http/admin.h"

#include <httplib.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "libs/http/listen.h"
#include "libs/metrics/metrics.h"

namespace takt::http {
namespace {

class AdminImpl final : public AdminServer {
 public:
  explicit AdminImpl(AdminOptions options) : options_(std::move(options)) {
    server_.set_tcp_nodelay(true);
    server_.set_read_timeout(5, 0);
    server_.set_write_timeout(5, 0);
    server_.new_task_queue = [] { return new httplib::ThreadPool(2); };
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(options_.metrics(), metrics::kContentType);
    });
    server_.Get("/livez", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      std::string body;
      bool ready = true;
      for (const auto& [service, serving] : options_.readiness()) {
        ready = ready && serving;
        absl::StrAppend(&body, service, serving ? " SERVING\n" : " NOT_SERVING\n");
      }
      res.status = ready ? 200 : 503;
      res.set_content(absl::StrCat(ready ? "ready\n" : "not ready\n", body), "text/plain");
    });
  }
  ~AdminImpl() override { Stop(); }

  absl::Status Listen() {
    auto port = BindListen(server_, options_.listen, "--admin-listen");
    if (!port.ok()) return port.status();
    port_ = *port;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return absl::OkStatus();
  }
  int port() const override { return port_; }
  void Stop() override {
    if (stopped_.exchange(true)) return;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  const AdminOptions options_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(AdminOptions options) {
  auto admin = std::make_unique<AdminImpl>(std::move(options));
  if (absl::Status s = admin->Listen(); !s.ok()) return s;
  return admin;
}

}  // namespace takt::http
