package dev.errand.dashboard.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Secrets compared in constant time. */
final class Secrets {

  private Secrets() {}

  /**
   * Whether {@code a} equals {@code b}, in a time that tells nothing of how much matched nor of
   * their lengths: both are hashed first, so the compared arrays always have the same length.
   */
  static boolean equal(String a, String b) {
    return a != null && b != null && MessageDigest.isEqual(sha256(a), sha256(b));
  }

  /**
   * The digest of a user and password together, so one comparison checks both and the time taken
   * does not tell whether the user alone was right. Length-prefixed, so "a" + "bc" and "ab" + "c"
   * differ.
   */
  static byte[] credentials(String user, String password) {
    return sha256(user.length() + ":" + user + ":" + password);
  }

  static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
