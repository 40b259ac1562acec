/**
 * The README's Java, compiled and run by the build. Each README {@code ```java} block is preceded
 * by {@code <!-- snippet: NAME -->} and equals the region {@code NAME} here: the lines between
 * {@code // readme:begin NAME} and {@code // readme:end}, several regions of one name joined by a
 * blank line, each without its common indentation. {@code ReadmeSnippetsTest} fails when they
 * differ, so change the code here and copy it to the README. A file with regions has all its
 * imports inside them, so the imports the README shows are the imports the code needs; code around
 * the regions names other types in full. The formatter leaves regions as written. Other classes in
 * this package stand for the user's own code ({@code Images}, {@code Mailer}, {@code Signup}, ...).
 */
package com.example.readme;
