package com.example.readme;

/** The user's image code, as the README's examples call it. */
final class Images {
  private Images() {}

  static String resize(String url, int width) {
    return url.replaceFirst("(\\.[a-z]+)$", "-" + width + "$1");
  }
}
