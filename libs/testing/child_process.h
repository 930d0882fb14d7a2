// File: child_process.h
// -----------------------------------------------------------------------------
// A child process for cross-process tests: started with fork/exec, its
// standard output and error going to files, stopped (SIGTERM, then SIGKILL
// after a grace period) and reaped when the object dies.
#ifndef TAKT_LIBS_TESTING_CHILD_PROCESS_H_
#define TAKT_LIBS_TESTING_CHILD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace takt::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`; output goes to `output_file` (both streams).
  ChildProcess(const std::vector<std::string>& argv, const std::string& output_file)
      : output_file_(output_file) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() { Stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Everything the child has written so far.
  std::string Output() const {
    std::ifstream in(output_file_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Waits until the output holds `marker`; returns the rest of that line.
  std::optional<std::string> WaitForOutput(const std::string& marker,
                                           std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string out = Output();
      size_t at = out.find(marker);
      if (at != std::string::npos) {
        size_t from = at + marker.size();
        size_t eol = out.find('\n', from);
        if (eol != std::string::npos) return out.substr(from, eol - from);
      }
      if (Exited()) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::nullopt;
  }

  // Waits for the child to exit; its exit code, or -signal if killed, or
  // nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!Exited()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exit_code_;
  }

  void Signal(int sig) {
    if (pid_ > 0 && !Exited()) ::kill(pid_, sig);
  }

  // SIGTERM, then SIGKILL after five seconds.
  void Stop() {
    if (pid_ <= 0 || Exited()) return;
    ::kill(pid_, SIGTERM);
    if (!Wait(std::chrono::seconds(5))) {
      ::kill(pid_, SIGKILL);
      Wait(std::chrono::seconds(5));
    }
  }

 private:
  bool Exited() {
    if (exit_code_) return true;
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return true;
  }

  std::string output_file_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace takt::testing

#endif  // TAKT_LIBS_TESTING_CHILD_PROCESS_H_
