//! A movie file: RGBA frames encoded as H.264 and written to an MP4 that standard players
//! open (FFmpeg's own muxer, with the index at the front so that a browser plays it while
//! it downloads). Unlike the streams, a movie may take its time: frames go in at a fixed
//! rate, the encoder may hold some back to predict better, and all come out at the end.

use std::path::{Path, PathBuf};

use ffmpeg_next::codec::context::Context;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::error::EAGAIN;
use ffmpeg_next::{Dictionary, Packet, Rational, codec, encoder, format, frame};

use crate::{VideoError, convert};

/// The H.264 encoders a movie is written with, the first that opens: libx264 where FFmpeg
/// has it, else the encoders a server may stream with.
pub const MOVIE_ENCODERS: [&str; 4] = ["libx264", "h264_nvenc", "h264_qsv", "libopenh264"];
/// Most frames a second a movie plays at.
pub const MAX_MOVIE_FPS: u32 = 60;

/// An MP4 being written; [`MovieWriter::finish`] completes the file.
pub struct MovieWriter {
    path: PathBuf,
    output: format::context::Output,
    encoder: encoder::video::Encoder,
    encoder_name: String,
    rgba: frame::Video,
    format: Pixel,
    /// The frames' time base (one tick a frame) and the stream's, which the muxer chose.
    frame_time: Rational,
    stream_time: Rational,
    frames: i64,
}

impl std::fmt::Debug for MovieWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MovieWriter")
            .field("path", &self.path)
            .field("encoder", &self.encoder_name)
            .field("frames", &self.frames)
            .finish()
    }
}

impl MovieWriter {
    /// Starts `path` (an MP4) for frames of `width` × `height` (even sides, at least 16)
    /// played at `fps`, with the first encoder of [`MOVIE_ENCODERS`] that opens.
    pub fn create(path: &Path, width: u32, height: u32, fps: u32) -> Result<Self, VideoError> {
        crate::init();
        let mut last = VideoError::NotFound(MOVIE_ENCODERS.join(", "));
        for name in MOVIE_ENCODERS {
            match Self::create_with(name, path, width, height, fps) {
                Ok(writer) => return Ok(writer),
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// Starts `path` with FFmpeg's encoder `name`.
    fn create_with(
        name: &str,
        path: &Path,
        width: u32,
        height: u32,
        fps: u32,
    ) -> Result<Self, VideoError> {
        let open_error = |reason: String| VideoError::Open {
            name: name.to_string(),
            width,
            height,
            reason,
        };
        if width < 16 || height < 16 || width % 2 == 1 || height % 2 == 1 {
            return Err(open_error(
                "a movie's sides are even and at least 16 pixels".to_string(),
            ));
        }
        if !(1..=MAX_MOVIE_FPS).contains(&fps) {
            return Err(open_error(format!(
                "{fps} frames a second: from 1 to {MAX_MOVIE_FPS}"
            )));
        }
        let codec =
            encoder::find_by_name(name).ok_or_else(|| VideoError::NotFound(name.to_string()))?;
        let mut output = format::output_as(path, "mp4")
            .map_err(|error| open_error(format!("{}: {error}", path.display())))?;
        let global_header = output
            .format()
            .flags()
            .contains(format::Flags::GLOBAL_HEADER);
        let mut video = Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|error| open_error(error.to_string()))?;
        let frame_time = Rational::new(1, fps as i32);
        let pixel = Pixel::YUV420P;
        video.set_width(width);
        video.set_height(height);
        video.set_format(pixel);
        video.set_time_base(frame_time);
        video.set_frame_rate(Some(Rational::new(fps as i32, 1)));
        convert::describe_colours(&mut video);
        if global_header {
            video.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let encoder = video
            .open_as_with(codec, options(name))
            .map_err(|error| open_error(error.to_string()))?;
        let mut stream = output
            .add_stream(codec)
            .map_err(|error| open_error(error.to_string()))?;
        stream.set_parameters(&encoder);
        stream.set_time_base(frame_time);
        let mut muxer = Dictionary::new();
        // The index first: a browser plays the download as it comes.
        muxer.set("movflags", "+faststart");
        output
            .write_header_with(muxer)
            .map_err(|error| open_error(format!("{}: {error}", path.display())))?;
        let stream_time = output
            .stream(0)
            .map(|stream| stream.time_base())
            .unwrap_or(frame_time);
        Ok(Self {
            path: path.to_path_buf(),
            output,
            encoder,
            encoder_name: name.to_string(),
            rgba: frame::Video::new(Pixel::RGBA, width, height),
            format: pixel,
            frame_time,
            stream_time,
            frames: 0,
        })
    }

    /// FFmpeg's name of the encoder writing the movie.
    pub fn encoder_name(&self) -> &str {
        &self.encoder_name
    }

    /// Frames written so far.
    pub fn frames(&self) -> i64 {
        self.frames
    }

    /// Adds the next frame: RGBA, `width` × `height` as the movie was started with, rows
    /// from the top.
    pub fn push(&mut self, rgba: &[u8], width: u32, height: u32) -> Result<(), VideoError> {
        if [width, height] != [self.rgba.width(), self.rgba.height()]
            || rgba.len() != width as usize * height as usize * 4
        {
            return Err(VideoError::BadFrame {
                width,
                height,
                bytes: rgba.len(),
            });
        }
        convert::fill_rgba(&mut self.rgba, rgba, width);
        let mut picture = frame::Video::new(self.format, width, height);
        convert::convert(&self.rgba, &mut picture)?;
        picture.set_pts(Some(self.frames));
        self.frames += 1;
        self.encoder
            .send_frame(&picture)
            .map_err(|error| VideoError::Encode(error.to_string()))?;
        self.drain()
    }

    /// Flushes the encoder and completes the file; its path.
    pub fn finish(mut self) -> Result<PathBuf, VideoError> {
        self.encoder
            .send_eof()
            .map_err(|error| VideoError::Encode(error.to_string()))?;
        self.drain()?;
        self.output
            .write_trailer()
            .map_err(|error| VideoError::Encode(format!("{}: {error}", self.path.display())))?;
        Ok(self.path)
    }

    /// Writes every packet the encoder has ready.
    fn drain(&mut self) -> Result<(), VideoError> {
        let mut packet = Packet::empty();
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => {
                    packet.set_stream(0);
                    // Each picture shows for one frame's time: without a duration the
                    // muxer ends the movie at the last packet in decoding order, which
                    // with reordered pictures can drop the last frame from the edit list.
                    packet.set_duration(1);
                    packet.rescale_ts(self.frame_time, self.stream_time);
                    packet
                        .write_interleaved(&mut self.output)
                        .map_err(|error| {
                            VideoError::Encode(format!("{}: {error}", self.path.display()))
                        })?;
                }
                Err(ffmpeg_next::Error::Other { errno }) if errno == EAGAIN => return Ok(()),
                Err(ffmpeg_next::Error::Eof) => return Ok(()),
                Err(error) => return Err(VideoError::Encode(error.to_string())),
            }
        }
    }
}

/// Each encoder's settings for a file: a good picture at a size that mails (constant
/// quality, High profile where the encoder takes it).
fn options(name: &str) -> Dictionary<'static> {
    let mut options = Dictionary::new();
    let specific: &[(&str, &str)] = match name {
        "libx264" => &[("preset", "fast"), ("crf", "20"), ("profile", "high")],
        "h264_nvenc" => &[("preset", "p4"), ("cq", "21")],
        "h264_qsv" => &[("preset", "medium"), ("global_quality", "21")],
        _ => &[],
    };
    for (key, value) in specific {
        options.set(key, value);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::encoder::tests::moving_picture;

    #[test]
    fn a_movie_is_written_and_bad_frames_and_sizes_are_refused() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("moving.mp4");
        assert!(matches!(
            MovieWriter::create(&path, 63, 48, 10),
            Err(VideoError::Open { .. })
        ));
        assert!(MovieWriter::create(&path, 64, 48, 0).is_err());
        let mut movie = MovieWriter::create(&path, 64, 48, 10).expect("a movie");
        for t in 0..12 {
            movie
                .push(&moving_picture(64, 48, t), 64, 48)
                .expect("a frame");
        }
        assert!(matches!(
            movie.push(&moving_picture(32, 48, 0), 32, 48),
            Err(VideoError::BadFrame { .. })
        ));
        assert_eq!(movie.frames(), 12);
        let written = movie.finish().expect("finished");
        let bytes = std::fs::read(&written).expect("the file");
        assert!(bytes.len() > 1000, "{} bytes", bytes.len());
        assert_eq!(&bytes[4..8], b"ftyp", "an ISO media file");
    }
}
