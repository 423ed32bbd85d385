// Where the Redis server is and how to log in: parsed from a REDIS_URL or the
// REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD variables, plus the key
// namespace (docs/SPEC.md §2, §8), or the sentinels to ask for the master, or the
// seed nodes of a Redis Cluster (docs/SPEC.md §9).
// Every program reads it this way.
// Thread-safety: Config is a value (copies share only the thread-safe
// SentinelList); the functions are pure (ConfigFromEnv only reads through the
// injected getenv).
//
//   absl::StatusOr<Config> cfg = ConfigFromEnv();
//   if (!cfg.ok()) { std::cerr << cfg.status().message() << "\n"; return 2; }
//   LOG << "redis " << cfg->Describe();        // never prints the password
//   std::string key = cfg->Key("physics:state:SPY");
#ifndef PHYSICS_ENGINE_REDIS_CONFIG_H_
#define PHYSICS_ENGINE_REDIS_CONFIG_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/redis/sentinel_list.h"

namespace physics::redis {

struct Config {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string unix_path;  // non-empty => connect to this unix socket instead of host:port
  std::string user;       // ACL user; empty => the default user
  std::string password;   // empty => no AUTH (unless `user` is set)
  int db = 0;
  std::string key_namespace;  // "" or e.g. "agentic"; never ends with ':'

  // redis-sentinel:// only (non-null): ask these sentinels for the address of
  // master `master_name` at every Connection::Open; host, port and unix_path
  // are then unused. user/password/db are those of the data nodes.
  std::shared_ptr<SentinelList> sentinels;
  std::string master_name;
  std::string sentinel_password;  // AUTH for the sentinels; "" => none

  bool uses_sentinels() const { return sentinels != nullptr; }

  // redis-cluster:// only (non-empty): seed nodes of a Redis Cluster; host,
  // port and unix_path are then unused, db is 0 (a cluster has one). Programs
  // open a Cluster (cluster.h) for such a Config; Connection::Open refuses it.
  std::vector<HostPort> cluster_seeds;
  bool uses_cluster() const { return !cluster_seeds.empty(); }
  // True in a Config for one node of a cluster (Cluster::NodeConfig): the
  // node's connection then skips the check that a redis:// URL does not lead
  // to a cluster node (Connection::Open).
  bool cluster_node = false;

  // The key or channel name with the namespace prefix: "agentic:physics:state:SPY",
  // or `name` unchanged when there is no namespace.
  std::string Key(std::string_view name) const;
  // Same as Key(), appended to `out`: no allocation once `out` has capacity,
  // for building keys on the hot path.
  void AppendKey(std::string& out, std::string_view name) const;

  // For logs and error messages: "redis://[user@]host:port/db",
  // "unix:///path.sock[?db=N]", "redis-sentinel://[user@]h1:p1,h2:p2/db#NAME"
  // or "redis-cluster://[user@]h1:p1,h2:p2".
  // Never contains a password.
  std::string Describe() const;
};

// Parses
//   redis://[[user]:password@]host[:port][/db]   (port defaults to 6379, db to 0;
//                                                  user and password may be %-encoded;
//                                                  host may be an [IPv6] literal)
//   unix://[[user]:password@]/path.sock[?db=N]
//   redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db]#MASTER
//                                                 (sentinels, port defaults to 26379;
//                                                  MASTER from [A-Za-z0-9._-]; the
//                                                  credentials are the data nodes')
//   redis-cluster://[[user]:password@]host[:port][,host[:port]...]
//                                                 (seed nodes, port defaults to 6379;
//                                                  no /db other than /0, no #fragment)
// A userinfo without ':' is taken as the password, as redis-cli -u does.
// Errors: kInvalidArgument, one line naming the bad part and what is accepted;
// the password is masked in the message.
absl::StatusOr<Config> ParseRedisUrl(std::string_view url);

// Validates a key namespace (REDIS_NAMESPACE or a flag): 1-64 characters from
// [A-Za-z0-9._:-]; trailing ':' are dropped ("agentic:" == "agentic").
// "" is accepted and means no namespace. Errors: kInvalidArgument.
absl::StatusOr<std::string> ParseNamespace(std::string_view ns);

// Reads REDIS_URL when set and non-empty, else REDIS_HOST, REDIS_PORT, REDIS_DB
// and REDIS_PASSWORD (each optional); then REDIS_NAMESPACE. When REDIS_URL carries
// no password, REDIS_PASSWORD supplies it (a common container set-up).
// REDIS_SENTINEL_PASSWORD is the sentinels' own password (kept in
// sentinel_password whatever the URL, so a --redis-url flag can use it).
// Defaults: redis://127.0.0.1:6379/0, no namespace.
// Errors: kInvalidArgument naming the variable, its value (password masked) and
// what is accepted.
absl::StatusOr<Config> ConfigFromEnv(
    std::function<const char*(const char*)> getenv = ::getenv);

}  // namespace physics::redis

#endif  // PHYSICS_ENGINE_REDIS_CONFIG_H_
