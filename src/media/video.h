// Frames of a video, one every `interval` seconds, through FFmpeg's libraries.
//
//   auto video = media::VideoFrames::Open("clip.mp4", options);
//   RgbImage frame; double t;
//   while (true) {
//     auto more = (*video)->Next(2.0, &frame, &t);   // the frame at or after t = 0, 2, 4 ... s
//     if (!more.ok()) ...; if (!*more) break;
//   }
//
// One object per video and per thread. Frames come out upright (rotation metadata applied) and,
// when options.target_* is set, scaled down to about that size (never up).
#ifndef MEDIADEX_MEDIA_VIDEO_H_
#define MEDIADEX_MEDIA_VIDEO_H_

#include <memory>
#include <string>

#include "core/image.h"
#include "core/status.h"
#include "media/decoder.h"

namespace mediadex::media {

struct VideoInfo {
  double duration_s = 0;
  int width = 0;   // upright
  int height = 0;
};

class VideoFrames {
 public:
  // Errors: NotFound, IOError, Corrupt (not a video FFmpeg can decode), Unsupported (built
  // without FFmpeg), InvalidArgument (frame size over max_pixels).
  static Result<std::unique_ptr<VideoFrames>> Open(const std::string& path, const DecodeOptions& options);
  virtual ~VideoFrames() = default;
  virtual const VideoInfo& info() const = 0;
  // The next frame at least `interval_s` after the previous one (the first at t=0).
  // Returns false at the end of the video. Gaps over 2.5 s are crossed by seeking (to the key
  // frame before, then decoding forward), shorter ones by decoding forward.
  // Damaged video: the frames decodable before the damage come out first; then one Corrupt
  // ("video data ends early (at 2.4 s of 5.0 s)", "video data cannot be read: ...", or a run of
  // undecodable packets), after which Next() returns false. Keep the frames, record the error.
  // frame->full_width/full_height: the upright frame size before scaling (boxes live there).
  virtual Result<bool> Next(double interval_s, RgbImage* frame, double* time_s) = 0;
  // Peak bytes one decoded frame costs (for the memory budget): the RGB output (twice when
  // rotated) plus the decoder's reference frames (17 decoded frames, H.264's worst case).
  virtual uint64_t frame_bytes() const = 0;
};

}  // namespace mediadex::media

#endif  // MEDIADEX_MEDIA_VIDEO_H_
