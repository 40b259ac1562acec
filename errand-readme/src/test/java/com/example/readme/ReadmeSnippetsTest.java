package com.example.readme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * The README's code cannot rot: every {@code ```java} block equals a region of the compiled sources
 * of this module (see {@code package-info.java}), and its dependency snippets name the versions
 * this build uses.
 */
class ReadmeSnippetsTest {

  static final Pattern MARKER = Pattern.compile("<!-- snippet: ([a-z0-9-]+) -->");
  static final Pattern BEGIN = Pattern.compile("^\\s*// readme:begin ([a-z0-9-]+)\\s*$");
  static final Pattern END = Pattern.compile("^\\s*// readme:end\\s*$");
  static final Pattern IMPORT = Pattern.compile("^import (static )?([\\w.]+)\\.(\\w+);$");

  final Path readme = Path.of(System.getProperty("readme.file", "../README.md"));

  /** Other pages whose Java blocks are held to the sources the same way. */
  final List<Path> pages =
      java.util.Arrays.stream(System.getProperty("readme.pages", "../docs/workflows.md").split(","))
          .map(String::strip)
          .filter(x -> !x.isEmpty())
          .map(Path::of)
          .toList();

  final Path sources = Path.of(System.getProperty("readme.sources", "src/test/java"));

  /** A fenced block of the README or a page: where it is, its language, first line and text. */
  record Block(String page, String language, int line, String marker, String text) {}

  /** {@code file} relative to the repository's root, as a person looks for it. */
  String shown(Path file) {
    return readme
        .toAbsolutePath()
        .normalize()
        .getParent()
        .relativize(file.toAbsolutePath().normalize())
        .toString();
  }

  /** A region of the sources: where it is and its text. */
  record Region(String name, Path file, List<Integer> lines, String text) {}

  @Test
  void everyJavaBlockOfTheReadmeIsARegionOfTheCompiledSources() throws IOException {
    Map<String, Region> regions = regions();
    List<String> problems = new ArrayList<>();
    TreeSet<String> used = new TreeSet<>();
    for (Block b : blocks()) {
      if (!b.language().equals("java")) {
        continue;
      }
      if (b.marker() == null) {
        problems.add(
            b.page()
                + ":"
                + b.line()
                + ": a java block without '<!-- snippet: NAME -->' on the line before it; put its"
                + " code in a region of errand-readme/src/test/java so the build compiles it");
        continue;
      }
      Region r = regions.get(b.marker());
      if (r == null) {
        problems.add(
            b.page()
                + ":"
                + b.line()
                + ": no region '"
                + b.marker()
                + "' in "
                + sources
                + regionsOf(regions));
        continue;
      }
      used.add(r.name());
      if (!b.text().equals(r.text())) {
        problems.add(difference(b, r, shown(r.file())));
      }
    }
    for (String name : regions.keySet()) {
      if (!used.contains(name)) {
        problems.add(
            "region '"
                + name
                + "' of "
                + shown(regions.get(name).file())
                + " is shown by no block of the README or its pages (<!-- snippet: "
                + name
                + " -->)");
      }
    }
    assertThat(problems).as("README.md and its pages against their compiled sources").isEmpty();
  }

  @Test
  void eachImportAReadmeBlockShowsIsUsedInIt() throws IOException {
    List<String> problems = new ArrayList<>();
    for (Block b : blocks()) {
      if (!b.language().equals("java")) {
        continue;
      }
      String code =
          b.text().lines().filter(l -> !l.startsWith("import ")).reduce("", (x, y) -> x + y + "\n");
      for (String line : b.text().lines().toList()) {
        Matcher m = IMPORT.matcher(line);
        if (line.startsWith("import ") && !m.matches()) {
          problems.add(b.page() + ":" + b.line() + ": write imports one name each: " + line);
        } else if (m.matches()
            && !Pattern.compile("\\b" + m.group(3) + "\\b").matcher(code).find()) {
          problems.add(b.page() + ":" + b.line() + ": unused " + line);
        }
      }
    }
    assertThat(problems).isEmpty();
  }

  @Test
  void aSnippetFileHasAllItsImportsInItsRegions() throws IOException {
    List<String> problems = new ArrayList<>();
    for (Path file : javaFiles()) {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      if (lines.stream().noneMatch(l -> BEGIN.matcher(l).matches())) {
        continue;
      }
      boolean inside = false;
      for (int i = 0; i < lines.size(); i++) {
        String l = lines.get(i);
        if (BEGIN.matcher(l).matches()) {
          inside = true;
        } else if (END.matcher(l).matches()) {
          inside = false;
        } else if (!inside && l.startsWith("import ")) {
          problems.add(
              shown(file)
                  + ":"
                  + (i + 1)
                  + ": an import outside the README's regions: the README would not show it; name"
                  + " the type in full where the README does not show it");
        }
      }
    }
    assertThat(problems).isEmpty();
  }

  @Test
  void theDependencySnippetsNameTheVersionsOfThisBuild() throws Exception {
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("dev.errand:*", System.getProperty("readme.version.errand"));
    expected.put("ch.qos.logback:logback-classic", System.getProperty("readme.version.logback"));
    expected.put("org.junit.jupiter:junit-jupiter", System.getProperty("readme.version.junit"));
    expected.put(
        "org.apache.maven.plugins:maven-surefire-plugin",
        System.getProperty("readme.version.surefire"));
    expected.put(
        "org.apache.maven.plugins:maven-compiler-plugin",
        System.getProperty("readme.version.compiler"));
    List<String> problems = new ArrayList<>();
    int versions = 0;
    for (Block b : blocks()) {
      if (!b.language().equals("xml")) {
        continue;
      }
      Element root =
          DocumentBuilderFactory.newInstance()
              .newDocumentBuilder()
              .parse(new InputSource(new StringReader("<snippet>" + b.text() + "</snippet>")))
              .getDocumentElement();
      for (String tag : List.of("dependency", "plugin")) {
        NodeList nodes = root.getElementsByTagName(tag);
        for (int i = 0; i < nodes.getLength(); i++) {
          Element e = (Element) nodes.item(i);
          String group = text(e, "groupId");
          String artifact = text(e, "artifactId");
          String version = text(e, "version");
          if (version == null) {
            continue; // managed by the BOM
          }
          versions++;
          String want =
              group.equals("dev.errand")
                  ? expected.get("dev.errand:*")
                  : expected.get(group + ":" + artifact);
          if (want == null) {
            problems.add(
                b.page()
                    + ":"
                    + b.line()
                    + ": "
                    + group
                    + ":"
                    + artifact
                    + " has a version this build does not check");
          } else if (!want.equals(version)) {
            problems.add(
                b.page()
                    + ":"
                    + b.line()
                    + ": "
                    + group
                    + ":"
                    + artifact
                    + " "
                    + version
                    + ", but this build uses "
                    + want);
          }
        }
      }
    }
    assertThat(problems).isEmpty();
    assertThat(versions).as("versions checked").isGreaterThanOrEqualTo(5);
  }

  private static String text(Element e, String tag) {
    NodeList l = e.getElementsByTagName(tag);
    return l.getLength() == 0 ? null : l.item(0).getTextContent().strip();
  }

  /** The fenced blocks of the README and the pages, with the snippet marker before each. */
  List<Block> blocks() throws IOException {
    List<Block> blocks = new ArrayList<>();
    List<Path> all = new ArrayList<>();
    all.add(readme);
    all.addAll(pages);
    for (Path page : all) {
      blocks.addAll(blocks(page));
    }
    return blocks;
  }

  /** The fenced blocks of one page. */
  List<Block> blocks(Path page) throws IOException {
    String name = shown(page);
    List<String> lines = Files.readAllLines(page, StandardCharsets.UTF_8);
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String l = lines.get(i);
      if (!l.startsWith("```") || l.length() == 3) {
        continue;
      }
      String language = l.substring(3).strip();
      Matcher m = i > 0 ? MARKER.matcher(lines.get(i - 1).strip()) : null;
      String marker = m != null && m.matches() ? m.group(1) : null;
      int start = i + 1;
      int end = start;
      while (end < lines.size() && !lines.get(end).equals("```")) {
        end++;
      }
      blocks.add(
          new Block(
              name, language, start + 1, marker, String.join("\n", lines.subList(start, end))));
      i = end;
    }
    return blocks;
  }

  List<Path> javaFiles() throws IOException {
    try (Stream<Path> files = Files.walk(sources)) {
      return files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
  }

  /** Every region of the sources by name, its segments joined by a blank line. */
  Map<String, Region> regions() throws IOException {
    Map<String, Region> regions = new LinkedHashMap<>();
    for (Path file : javaFiles()) {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        Matcher m = BEGIN.matcher(lines.get(i));
        if (!m.matches()) {
          continue;
        }
        int end = i + 1;
        while (end < lines.size() && !END.matcher(lines.get(end)).matches()) {
          if (BEGIN.matcher(lines.get(end)).matches()) {
            fail(shown(file) + ":" + (end + 1) + ": a region begins inside region " + m.group(1));
          }
          end++;
        }
        if (end == lines.size()) {
          fail(shown(file) + ":" + (i + 1) + ": region " + m.group(1) + " has no '// readme:end'");
        }
        String segment = dedent(lines.subList(i + 1, end));
        Region before = regions.get(m.group(1));
        if (before != null && !before.file().equals(file)) {
          fail(
              "region "
                  + m.group(1)
                  + " is in both "
                  + shown(before.file())
                  + " and "
                  + shown(file));
        }
        List<Integer> at = new ArrayList<>(before == null ? List.of() : before.lines());
        at.add(i + 2);
        regions.put(
            m.group(1),
            new Region(
                m.group(1), file, at, before == null ? segment : before.text() + "\n\n" + segment));
        i = end;
      }
    }
    return regions;
  }

  /** The lines without their common indentation, trailing blanks and blank lines at either end. */
  static String dedent(List<String> lines) {
    List<String> kept = lines.stream().map(String::stripTrailing).toList();
    int from = 0;
    int to = kept.size();
    while (from < to && kept.get(from).isEmpty()) from++;
    while (to > from && kept.get(to - 1).isEmpty()) to--;
    kept = kept.subList(from, to);
    int indent =
        kept.stream()
            .filter(l -> !l.isEmpty())
            .mapToInt(l -> l.length() - l.stripLeading().length())
            .min()
            .orElse(0);
    return String.join(
        "\n", kept.stream().map(l -> l.isEmpty() ? l : l.substring(indent)).toList());
  }

  static String difference(Block b, Region r, String file) {
    List<String> readmeLines = b.text().lines().toList();
    List<String> sourceLines = r.text().lines().toList();
    int k = 0;
    while (k < readmeLines.size()
        && k < sourceLines.size()
        && readmeLines.get(k).equals(sourceLines.get(k))) {
      k++;
    }
    return b.page()
        + ":"
        + (b.line() + k)
        + ": block '"
        + r.name()
        + "' differs from its source "
        + file
        + " (region at line(s) "
        + r.lines()
        + ") at its line "
        + (k + 1)
        + ":\n  README: "
        + (k < readmeLines.size() ? readmeLines.get(k) : "(ends)")
        + "\n  source: "
        + (k < sourceLines.size() ? sourceLines.get(k) : "(ends)")
        + "\nChange the source and copy the region into the README; it should read:\n"
        + r.text();
  }

  private static String regionsOf(Map<String, Region> regions) {
    return " (regions: " + regions.keySet() + ")";
  }
}
