// The unit of fan-out: one server->client WebSocket frame, built once when a
// message arrives and shared read-only by every recipient's queue (the
// chat-multi habit, with the frame header included so a client's queued
// frames go out in one gather write).
// Thread-safety: an OutFrame is immutable once built and may be read from any
// thread; the builders are pure functions.
#ifndef PHYSICS_BRIDGE_FRAME_H_
#define PHYSICS_BRIDGE_FRAME_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace physics::bridge {

// Stream ids: which subscription a message belongs to. 0 is state_update;
// i >= 1 is the i-th --channels entry.
using StreamId = uint16_t;
inline constexpr StreamId kStateStream = 0;

struct OutFrame {
  OutFrame() = default;
  OutFrame(const OutFrame&) = delete;
  OutFrame& operator=(const OutFrame&) = delete;

  // The complete frame: header + payload.
  std::string_view bytes() const { return packed.data() != nullptr ? packed : std::string_view(storage); }
  std::string_view data() const { return bytes().substr(data_offset, data_size); }

  std::string storage;       // the builders write the frame here...
  std::string_view packed;   // ...or it is a slice of a packed batch (PackFrames)
  uint32_t data_offset = 0;  // message frames: the published JSON inside bytes()
  uint32_t data_size = 0;
  StreamId stream = kStateStream;
  std::string symbol;        // "" when the message names no symbol
  int64_t seq = 0;
  int64_t received_ns = 0;   // steady clock when read from Redis; 0: not a live message
};
using FramePtr = std::shared_ptr<const OutFrame>;

// Copies `frames` back to back into one buffer (kJsonPadding spare bytes at
// its end, so data() may still be parsed in place) and returns frames with
// the same bytes and fields that are slices of it; they share one allocation
// and keep it alive. A client's queued frames that are adjacent in memory go
// to the kernel as one iovec (ClientQueue::BeginWrite): measured on this VM,
// one 35 KB sendmsg costs ~4.8 us of CPU from one buffer and ~7.7 us from
// 100 iovecs of 350 bytes. The originals are left alone (the hubs keep those
// as the latest per symbol, so a rarely updated symbol never pins a batch).
std::vector<FramePtr> PackFrames(std::span<const FramePtr> frames);

// Steady-clock nanoseconds: the time base of received_ns and queue ages.
int64_t SteadyNowNs();

// Builds {"type":"message","channel":<channel>,"data":<data>} as one text
// frame. `data` is copied verbatim when data_is_json, else as a JSON string.
// The frame's buffer has kJsonPadding spare bytes after the data, so the
// returned frame's data() may be parsed in place (ParseEventHeader padded).
std::shared_ptr<OutFrame> BuildMessageFrame(std::string_view channel, std::string_view data,
                                            bool data_is_json);

// A text frame carrying `json` (a control reply such as {"type":"pong"}).
FramePtr MakeTextFrame(std::string_view json);
// {"type":"error","error":<message>}
FramePtr MakeErrorFrame(std::string_view message);
// {"type":"subscribed","channel":<channel>} / {"type":"unsubscribed",...}
FramePtr MakeChannelReplyFrame(std::string_view type, std::string_view channel);
// A WebSocket close frame (see MakeCloseFrame in ws_codec.h).
FramePtr MakeCloseFramePtr(uint16_t code, std::string_view reason);
// A WebSocket pong answering a ping with `payload`.
FramePtr MakePongFrame(std::string_view payload);

}  // namespace physics::bridge

#endif  // PHYSICS_BRIDGE_FRAME_H_
