// VideoFrames over libavformat/libavcodec/libswscale. Decodes forward for short intervals and
// seeks (to the key frame before the target, then decodes forward) across long gaps.
//
// Damage: frames that decode before it are returned; a read error, a run of undecodable
// packets, or a stream that ends more than a second before its stated duration turns the next
// Next() call into Corrupt (so the caller keeps the frames it got and records the reason).
#include "media/video.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>

#include "media/decode_internal.h"

#ifdef MEDIADEX_WITH_FFMPEG
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}
#include <mutex>
#endif

namespace mediadex::media {

#ifndef MEDIADEX_WITH_FFMPEG

Result<std::unique_ptr<VideoFrames>> VideoFrames::Open(const std::string& path, const DecodeOptions&) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return NotFound(std::strerror(errno));
  return Unsupported("video support not in this build");
}

#else

namespace {

// Gaps longer than this are crossed by seeking instead of decoding every frame in between.
constexpr double kSeekGapSeconds = 2.5;
// Time stamps are compared with this slack (container rounding).
constexpr double kEpsilon = 1e-3;
// Consecutive packets the decoder rejects before the stream counts as corrupt.
constexpr int kMaxBadPackets = 32;
// Frames a decoder may hold for reference/reordering (H.264's DPB is at most 16).
constexpr int kDecoderFrames = 17;

std::string AvError(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof(buf));
  return buf;
}

class FfmpegVideo final : public VideoFrames {
 public:
  ~FfmpegVideo() override {
    sws_freeContext(sws_);
    av_frame_free(&frame_);
    av_packet_free(&packet_);
    avcodec_free_context(&codec_);
    avformat_close_input(&format_);
  }

  Status Init(const std::string& path, const DecodeOptions& options) {
    deadline_ = internal::Deadline(options.max_decode_seconds);
    // The time limit also reaches inside libavformat's blocking reads (stream probing).
    format_ = avformat_alloc_context();
    if (format_ == nullptr) return OutOfMemory("cannot create a video reader");
    format_->interrupt_callback.callback = [](void* self) {
      return static_cast<FfmpegVideo*>(self)->deadline_.Passed() ? 1 : 0;
    };
    format_->interrupt_callback.opaque = this;
    int rc = avformat_open_input(&format_, path.c_str(), nullptr, nullptr);
    if (deadline_.Passed()) return deadline_.Error();
    if (rc < 0) return Corrupt("not a video FFmpeg can read: " + AvError(rc));
    rc = avformat_find_stream_info(format_, nullptr);
    if (deadline_.Passed()) return deadline_.Error();
    if (rc < 0) return Corrupt("cannot read the video's stream info: " + AvError(rc));
    const AVCodec* decoder = nullptr;
    stream_index_ = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (stream_index_ == AVERROR_DECODER_NOT_FOUND) return Unsupported("no decoder for this video codec");
    if (stream_index_ < 0) return Corrupt("no video stream in the file");
    stream_ = format_->streams[stream_index_];
    const AVCodecParameters* par = stream_->codecpar;
    if (par->width <= 0 || par->height <= 0) return Corrupt("video stream has no frame size");
    MDX_RETURN_IF_ERROR(internal::CheckPixelLimit(par->width, par->height, options.max_pixels));

    codec_ = avcodec_alloc_context3(decoder);
    if (codec_ == nullptr) return OutOfMemory("cannot create a video decoder");
    rc = avcodec_parameters_to_context(codec_, par);
    if (rc < 0) return Corrupt("bad codec parameters: " + AvError(rc));
    codec_->thread_count = 1;  // the pipeline runs several decodes in parallel already
    // The decoder refuses frames over the pixel limit before allocating them (a stream may
    // change its size mid-way, past what the container said).
    codec_->max_pixels = static_cast<int64_t>(std::min<uint64_t>(options.max_pixels, INT64_MAX));
    rc = avcodec_open2(codec_, decoder, nullptr);
    if (rc < 0) return Unsupported(std::string("cannot open the ") + decoder->name + " decoder: " + AvError(rc));
    frame_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    if (frame_ == nullptr || packet_ == nullptr) return OutOfMemory("cannot allocate video frames");

    // Rotation: the display matrix says how far counter-clockwise to turn; we turn clockwise.
    const uint8_t* matrix = av_stream_get_side_data(stream_, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
    if (matrix != nullptr) {
      const double ccw = av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
      if (!std::isnan(ccw)) {
        int cw = static_cast<int>(std::lround(-ccw / 90.0)) * 90 % 360;
        if (cw < 0) cw += 360;
        rotation_ = cw;
      }
    }
    const bool swap = rotation_ == 90 || rotation_ == 270;
    info_.width = swap ? par->height : par->width;
    info_.height = swap ? par->width : par->height;
    if (format_->duration > 0) {
      info_.duration_s = static_cast<double>(format_->duration) / AV_TIME_BASE;
    } else if (stream_->duration > 0) {
      info_.duration_s = stream_->duration * av_q2d(stream_->time_base);
    }
    start_s_ = stream_->start_time != AV_NOPTS_VALUE ? stream_->start_time * av_q2d(stream_->time_base) : 0;

    // Output size: both upright sides >= target, same aspect, never larger than the video.
    double scale = 1.0;
    if (options.target_width > 0 || options.target_height > 0) {
      scale = std::max(static_cast<double>(options.target_width) / info_.width,
                       static_cast<double>(options.target_height) / info_.height);
      if (scale > 1.0) scale = 1.0;
    }
    const int up_w = std::max(1, std::min(info_.width, static_cast<int>(std::ceil(info_.width * scale - 1e-9))));
    const int up_h = std::max(1, std::min(info_.height, static_cast<int>(std::ceil(info_.height * scale - 1e-9))));
    out_width_ = swap ? up_h : up_w;  // stored axes; turned upright after scaling
    out_height_ = swap ? up_w : up_h;

    const uint64_t out_bytes = static_cast<uint64_t>(out_width_) * out_height_ * 3;
    const int frame_size = av_image_get_buffer_size(static_cast<AVPixelFormat>(par->format), par->width,
                                                    par->height, 1);
    const uint64_t decoded = frame_size > 0 ? static_cast<uint64_t>(frame_size)
                                            : static_cast<uint64_t>(par->width) * par->height * 4;
    frame_bytes_ = out_bytes * (rotation_ != 0 ? 2 : 1) + decoded * kDecoderFrames +
                   internal::kDecoderOverheadBytes;
    return Status::Ok();
  }

  const VideoInfo& info() const override { return info_; }
  uint64_t frame_bytes() const override { return frame_bytes_; }

  Result<bool> Next(double interval_s, RgbImage* out, double* time_s) override {
    if (!pending_error_.ok()) {
      Status error = pending_error_;
      pending_error_ = Status::Ok();
      done_ = true;
      return error;
    }
    if (done_) return false;
    const double target = have_last_ ? last_time_ + std::max(interval_s, 0.0) : 0.0;
    if (have_last_ && target - decoded_time_ > kSeekGapSeconds) MDX_RETURN_IF_ERROR(SeekTo(target));
    for (;;) {
      Result<bool> got = DecodeOne();
      if (!got.ok()) {
        done_ = true;
        return got.status();
      }
      if (!*got) {  // end of stream
        done_ = true;
        if (info_.duration_s > 0 && decoded_time_ < info_.duration_s - 1.0) {
          return Corrupt("video data ends early (at " + Seconds(decoded_time_) + " of " +
                         Seconds(info_.duration_s) + ")");
        }
        return false;
      }
      if (decoded_time_ + kEpsilon < target) continue;
      MDX_RETURN_IF_ERROR(Convert(out));
      *time_s = decoded_time_;
      last_time_ = decoded_time_;
      have_last_ = true;
      return true;
    }
  }

 private:
  static std::string Seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f s", s);
    return buf;
  }

  Status SeekTo(double target) {
    const double tb = av_q2d(stream_->time_base);
    const int64_t ts = static_cast<int64_t>((target + start_s_) / tb);
    if (av_seek_frame(format_, stream_index_, ts, AVSEEK_FLAG_BACKWARD) >= 0) {
      avcodec_flush_buffers(codec_);
      eof_sent_ = false;
    }  // a failed seek (unseekable stream) just decodes forward
    return Status::Ok();
  }

  // Decodes the next frame into frame_ and sets decoded_time_; false at the end.
  Result<bool> DecodeOne() {
    for (;;) {
      if (deadline_.Passed()) return deadline_.Error();
      int rc = avcodec_receive_frame(codec_, frame_);
      if (rc == 0) {
        const int64_t pts = frame_->best_effort_timestamp != AV_NOPTS_VALUE ? frame_->best_effort_timestamp
                                                                            : frame_->pts;
        if (pts != AV_NOPTS_VALUE) {
          decoded_time_ = pts * av_q2d(stream_->time_base) - start_s_;
        } else {
          decoded_time_ += 1.0 / 25;  // no time stamps at all: assume 25 fps
        }
        bad_packets_ = 0;
        return true;
      }
      if (rc == AVERROR_EOF) return false;
      if (rc != AVERROR(EAGAIN)) {
        if (++bad_packets_ > kMaxBadPackets) return Corrupt("video cannot be decoded: " + AvError(rc));
        continue;
      }
      if (eof_sent_) return false;
      // The decoder wants input.
      rc = av_read_frame(format_, packet_);
      if (rc == AVERROR_EOF) {
        avcodec_send_packet(codec_, nullptr);  // drain the frames it still holds
        eof_sent_ = true;
        continue;
      }
      if (rc == AVERROR_EXIT) return deadline_.Error();  // the interrupt callback
      if (rc < 0) {
        // Keep what is buffered; report the damage on the following call.
        pending_error_ = Corrupt("video data cannot be read: " + AvError(rc));
        avcodec_send_packet(codec_, nullptr);
        eof_sent_ = true;
        continue;
      }
      if (packet_->stream_index == stream_index_) {
        rc = avcodec_send_packet(codec_, packet_);
        if (rc < 0 && rc != AVERROR(EAGAIN) && ++bad_packets_ > kMaxBadPackets) {
          av_packet_unref(packet_);
          return Corrupt("video cannot be decoded: " + AvError(rc));
        }
      }
      av_packet_unref(packet_);
    }
  }

  Status Convert(RgbImage* out) {
    if (frame_->width <= 0 || frame_->height <= 0) return Corrupt("video frame has no size");
    MDX_RETURN_IF_ERROR(internal::CheckPixelLimit(frame_->width, frame_->height, max_pixels_));
    // Frames may change size mid-stream: keep the output aspect of this frame.
    sws_ = sws_getCachedContext(sws_, frame_->width, frame_->height, static_cast<AVPixelFormat>(frame_->format),
                                out_width_, out_height_, AV_PIX_FMT_RGB24, SWS_AREA, nullptr, nullptr, nullptr);
    if (sws_ == nullptr) return Unsupported("cannot convert this video's pixel format to RGB");
    RgbImage image;
    image.width = out_width_;
    image.height = out_height_;
    image.full_width = frame_->width;
    image.full_height = frame_->height;
    image.pixels.resize(static_cast<size_t>(out_width_) * out_height_ * 3);
    uint8_t* planes[4] = {image.pixels.data(), nullptr, nullptr, nullptr};
    int strides[4] = {out_width_ * 3, 0, 0, 0};
    if (sws_scale(sws_, frame_->data, frame_->linesize, 0, frame_->height, planes, strides) != out_height_) {
      return Corrupt("video frame conversion failed");
    }
    switch (rotation_) {
      case 90: internal::ApplyOrientation(6, &image); break;
      case 180: internal::ApplyOrientation(3, &image); break;
      case 270: internal::ApplyOrientation(8, &image); break;
      default: break;
    }
    *out = std::move(image);
    return Status::Ok();
  }

 public:
  uint64_t max_pixels_ = 0;

 private:
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVStream* stream_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVPacket* packet_ = nullptr;
  SwsContext* sws_ = nullptr;
  int stream_index_ = -1;
  int rotation_ = 0;  // clockwise degrees to turn stored frames upright
  int out_width_ = 0, out_height_ = 0;
  double start_s_ = 0;
  double decoded_time_ = 0;
  double last_time_ = 0;
  bool have_last_ = false;
  bool eof_sent_ = false;
  bool done_ = false;
  int bad_packets_ = 0;
  Status pending_error_;
  VideoInfo info_;
  uint64_t frame_bytes_ = 0;
  internal::Deadline deadline_{0};
};

}  // namespace

Result<std::unique_ptr<VideoFrames>> VideoFrames::Open(const std::string& path, const DecodeOptions& options) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound(std::strerror(errno));
    return IOError(std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return IOError(std::strerror(EISDIR));
  if (::access(path.c_str(), R_OK) != 0) return IOError(std::strerror(errno));
  if (st.st_size == 0) return Corrupt("empty file");
  // FFmpeg logs every damaged packet to stderr; that is noise next to our per-file errors.
  static std::once_flag quiet;
  // No single FFmpeg allocation may exceed what a frame at the pixel limit needs (16-bit
  // 4:4:4 with alpha: 8 bytes a pixel) plus slack; FFmpeg's default cap is 2 GiB. Process-wide,
  // so set from the first video's options.
  std::call_once(quiet, [&options] {
    av_log_set_level(AV_LOG_FATAL);
    const uint64_t frame = options.max_pixels < (1ull << 32) ? options.max_pixels * 8 + (64u << 20) : INT32_MAX;
    av_max_alloc(static_cast<size_t>(std::min<uint64_t>(frame, INT32_MAX)));
  });
  auto video = std::make_unique<FfmpegVideo>();
  video->max_pixels_ = options.max_pixels;
  MDX_RETURN_IF_ERROR(video->Init(path, options));
  return std::unique_ptr<VideoFrames>(std::move(video));
}

#endif  // MEDIADEX_WITH_FFMPEG

}  // namespace mediadex::media
