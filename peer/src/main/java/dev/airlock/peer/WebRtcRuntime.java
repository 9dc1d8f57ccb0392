package dev.airlock.peer;

import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCConfiguration;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.media.audio.HeadlessAudioDeviceModule;
import dev.onvoid.webrtc.media.video.VideoTrack;
import dev.onvoid.webrtc.media.video.VideoTrackSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's one WebRTC peer connection factory, with a headless audio device (no sound card, no
 * PulseAudio server needed).
 *
 * <p>Created on first use. Libwebrtc keeps a non-daemon native thread while a factory lives, so a
 * program would never end on its own: the factory is therefore disposed when the last peer
 * connection closes, and created again when the next one is made. Disposing a factory before its
 * peer connections crashes the JVM, so all native calls that create, close or dispose go through
 * one thread ({@link #execute(Runnable)}), never a libwebrtc callback thread (closing from a
 * callback deadlocks or frees the connection twice).
 */
public final class WebRtcRuntime {

  private static final Logger log = LoggerFactory.getLogger(WebRtcRuntime.class);

  private static final ExecutorService NATIVE =
      Executors.newSingleThreadExecutor(
          task -> {
            Thread thread = new Thread(task, "airlock-webrtc");
            thread.setDaemon(true);
            return thread;
          });

  private static HeadlessAudioDeviceModule audio;
  private static PeerConnectionFactory factory;
  private static int live;
  private static boolean keepAlive;

  private WebRtcRuntime() {}

  /**
   * Keeps the factory after the last connection closes (a long-running agent pays the ~200 ms of
   * creating it once); {@link #shutdown()} still disposes it.
   */
  public static synchronized void keepAlive(boolean keep) {
    keepAlive = keep;
  }

  /** Runs {@code task} on the thread that owns native creation and disposal. */
  static void execute(Runnable task) {
    NATIVE.execute(task);
  }

  /**
   * Loads libwebrtc's native library (idempotent), which the native classes that are not made by
   * the factory ({@code CustomVideoSource}, {@code NativeI420Buffer}, {@code VideoBufferConverter})
   * need before their first use; the library is otherwise only loaded with the factory class.
   */
  public static void loadNativeLibrary() {
    try {
      Class.forName(
          PeerConnectionFactory.class.getName(), true, WebRtcRuntime.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("webrtc-java is not on the class path", e);
    }
  }

  /**
   * Creates a video track fed by {@code source}; call only on the native thread, while a peer
   * connection made by {@link #create} is open (the factory exists only then).
   */
  static synchronized VideoTrack createVideoTrack(String label, VideoTrackSource source) {
    if (factory == null) {
      throw new IllegalStateException(
          "no peer connection open: cannot create video track " + label);
    }
    return factory.createVideoTrack(label, source);
  }

  /** Creates a peer connection; call only on the native thread. */
  static synchronized RTCPeerConnection create(
      RTCConfiguration configuration, PeerConnectionObserver observer) {
    if (factory == null) {
      audio = new HeadlessAudioDeviceModule();
      factory = new PeerConnectionFactory(audio);
    }
    RTCPeerConnection connection = factory.createPeerConnection(configuration, observer);
    live++;
    return connection;
  }

  /** Closes a peer connection made by {@link #create}; call only on the native thread. */
  static synchronized void close(RTCPeerConnection connection) {
    close(connection, () -> {});
  }

  /**
   * Closes a peer connection made by {@link #create}, then runs {@code afterClose} (to free the
   * connection's tracks, which its senders hold until it is closed) while the factory still lives;
   * call only on the native thread.
   */
  static synchronized void close(RTCPeerConnection connection, Runnable afterClose) {
    try {
      connection.close();
      afterClose.run();
    } catch (RuntimeException | Error e) {
      // webrtc-java reports a still-referenced native object as an Error; the factory must still
      // be accounted for, or it would never be disposed. In 0.14, close() never releases the
      // native connection, which so keeps its tracks (devopvoid/webrtc-java#239, fixed by #283
      // after 0.14): that leak is upstream's, and goes with the next release.
      log.warn(
          "Freeing a peer connection's objects: {} (webrtc-java 0.14 keeps a closed connection"
              + " alive: devopvoid/webrtc-java#239)",
          e.toString());
    }
    live--;
    if (live == 0 && !keepAlive) {
      disposeFactory();
    }
  }

  /**
   * Disposes the factory now if no peer connection is open, waiting at most a few seconds; a
   * program calls it before it exits (the agent does, in its shutdown hook).
   */
  public static void shutdown() {
    try {
      NATIVE
          .submit(
              () -> {
                synchronized (WebRtcRuntime.class) {
                  if (live == 0) {
                    disposeFactory();
                  } else {
                    log.warn("{} peer connection(s) still open; WebRTC left running", live);
                  }
                }
              })
          .get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("WebRTC shutdown: {}", e.toString());
    }
  }

  private static void disposeFactory() {
    if (factory != null) {
      factory.dispose();
      audio.dispose();
      factory = null;
      audio = null;
    }
  }
}
