#include "bridge/frame.h"

#include <chrono>

#include "bridge/ws_codec.h"
#include "engine/schema/event_header.h"
#include "engine/schema/json_writer.h"

namespace physics::bridge {
namespace {

constexpr std::string_view kMessagePrefix = "{\"type\":\"message\",\"channel\":";
constexpr std::string_view kDataKey = ",\"data\":";

std::shared_ptr<OutFrame> TextFrame(std::string_view json) {
  auto frame = std::make_shared<OutFrame>();
  frame->storage.reserve(FrameHeaderSize(json.size()) + json.size());
  AppendFrameHeader(Opcode::kText, json.size(), frame->storage);
  frame->storage.append(json);
  return frame;
}

}  // namespace

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<OutFrame> BuildMessageFrame(std::string_view channel, std::string_view data,
                                            bool data_is_json) {
  // The payload is assembled in a scratch string first only for non-JSON data
  // (rare: extra channels); the common path writes the frame in one pass.
  std::string quoted_channel;
  schema::AppendJsonString(quoted_channel, channel);
  std::string quoted_data;
  if (!data_is_json) schema::AppendJsonString(quoted_data, data);
  const std::string_view body = data_is_json ? data : std::string_view(quoted_data);
  const size_t payload_size =
      kMessagePrefix.size() + quoted_channel.size() + kDataKey.size() + body.size() + 1;

  auto frame = std::make_shared<OutFrame>();
  std::string& bytes = frame->storage;
  bytes.reserve(FrameHeaderSize(payload_size) + payload_size + schema::kJsonPadding);
  AppendFrameHeader(Opcode::kText, payload_size, bytes);
  bytes.append(kMessagePrefix);
  bytes.append(quoted_channel);
  bytes.append(kDataKey);
  frame->data_offset = static_cast<uint32_t>(bytes.size());
  frame->data_size = static_cast<uint32_t>(body.size());
  bytes.append(body);
  bytes.push_back('}');
  return frame;
}

FramePtr MakeTextFrame(std::string_view json) { return TextFrame(json); }

FramePtr MakeErrorFrame(std::string_view message) {
  std::string json = "{\"type\":\"error\",\"error\":";
  schema::AppendJsonString(json, message);
  json.push_back('}');
  return TextFrame(json);
}

FramePtr MakeChannelReplyFrame(std::string_view type, std::string_view channel) {
  std::string json = "{\"type\":";
  schema::AppendJsonString(json, type);
  json.append(",\"channel\":");
  schema::AppendJsonString(json, channel);
  json.push_back('}');
  return TextFrame(json);
}

FramePtr MakeCloseFramePtr(uint16_t code, std::string_view reason) {
  auto frame = std::make_shared<OutFrame>();
  frame->storage = MakeCloseFrame(code, reason);
  return frame;
}

FramePtr MakePongFrame(std::string_view payload) {
  auto frame = std::make_shared<OutFrame>();
  payload = payload.substr(0, kMaxControlPayload);
  AppendFrameHeader(Opcode::kPong, payload.size(), frame->storage);
  frame->storage.append(payload);
  return frame;
}

std::vector<FramePtr> PackFrames(std::span<const FramePtr> frames) {
  struct Packed {
    std::string buffer;
    std::unique_ptr<OutFrame[]> frames;
  };
  auto packed = std::make_shared<Packed>();
  size_t total = schema::kJsonPadding;
  for (const FramePtr& f : frames) total += f->bytes().size();
  packed->buffer.reserve(total);
  packed->frames = std::make_unique<OutFrame[]>(frames.size());
  std::vector<FramePtr> out;
  out.reserve(frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    const OutFrame& from = *frames[i];
    OutFrame& to = packed->frames[i];
    const size_t offset = packed->buffer.size();
    packed->buffer.append(from.bytes());
    to.packed = std::string_view(packed->buffer).substr(offset, from.bytes().size());
    to.data_offset = from.data_offset;
    to.data_size = from.data_size;
    to.stream = from.stream;
    to.symbol = from.symbol;
    to.seq = from.seq;
    to.received_ns = from.received_ns;
    out.emplace_back(packed, &to);  // aliasing: shares the batch's control block
  }
  return out;
}

}  // namespace physics::bridge
