// Package hl7v2 reads and writes HL7 version 2 messages: a streaming [Reader], a [Parse]
// function for one message in memory, lazy access to fields, repetitions, components and
// subcomponents by value or by [Path], escaping and unescaping, a [Writer] and a [Builder].
//
// # Versions
//
// The encoding rules (HL7 v2.5.1 chapter 2, §2.5–2.7) are the same from v2.1 to v2.8, and
// this package reads messages of all those versions structurally: it knows segments,
// fields, repetitions, components and subcomponents, not message structures or data types,
// so any segment (Z-segments included) and any event is read. The v2.7 truncation
// character (a fifth character in MSH-2) and its \P\ escape are supported.
//
// # Input forms
//
// One [Reader] accepts all of these, detected as it goes and mixed in one stream:
//
//   - Segment terminators CR (the standard, §2.5.1), LF, CRLF and any mix of them; LF CR is
//     read as two line ends with an empty line between. Blank lines and lines of spaces and
//     tabs between segments or messages are ignored.
//   - A UTF-8 byte order mark at the start of the input and before any later MSH, as when
//     files are concatenated, even in the middle of a line.
//   - MLLP framing (0x0B, message, 0x1C 0x0D), many frames per stream, with or without line
//     ends between frames. A frame may hold several messages or a batch.
//   - FHS/BHS batches (§2.10.3): the envelope segments are not messages; the messages in the
//     batch are returned one by one, and [Reader.FileHeader] and [Reader.BatchHeader] give
//     the headers in force. BTS and FTS trailers are skipped; their counts are not checked.
//
// A message starts at an MSH segment and ends before the next MSH, FHS, BHS, BTS or FTS
// segment, at the end of its MLLP frame, or at the end of the input. Each message's
// delimiters are read from its own MSH-1 and MSH-2: any printable ASCII characters other
// than letters, digits and space, all different, with four or five in MSH-2.
//
// A Reader never holds more than one line of input plus the current message, whatever the
// length of the stream, and a message is bounded by [Reader.MaxMessageSize].
//
// # Escapes
//
// Text methods decode escape sequences (§2.7) as described at [Unescape]: delimiters, \X..\
// hexadecimal data, \.br\ and \.sp\ line breaks; formatting, highlighting and character set
// escapes are dropped; locally defined \Z..\ escapes are kept. MSH-1 and MSH-2 are always
// returned raw. [Escape] and the [Builder] encode text, turning line breaks into \.br\.
//
// # Errors and resynchronisation
//
// A message that cannot be read gives a [*ParseError] naming the message index, input
// offset, line, column, segment and field, wrapping one of the sentinel errors. Bad input
// is normal input: the next [Reader.Read] resynchronises at the next MSH, batch segment,
// MLLP frame or byte order mark, so one bad message never loses the others.
//
// # Deviations and tolerances
//
// The standard ends segments with CR only (§2.5.1). This package also accepts LF and CRLF,
// and decides per line: in a message whose MSH ends with CR (or CRLF), a bare LF followed by
// a line that does not start with a segment name is taken as data, and the line continues
// the segment (the LF stays in the field's text; [Message.InputPosition] still finds every
// byte). This keeps messages whose free text holds raw line breaks. A line that starts with
// a segment name always starts a segment. In a message whose lines end with LF, such a line
// is an error.
//
// Other tolerances, each chosen because a real file would otherwise be lost:
//
//   - MSH-2 written with a doubled escape character, `^~\&` (seen in files whose MSH went
//     through a string-escaping step), is read as `^~\&`; [Message.Delimiters] then reports
//     `\` as the escape character, and MSH-2 keeps the bytes as written.
//   - Files concatenated without a final line end glue the next MSH to the last segment of
//     the message before. "MSH", the field separator, four or five valid encoding
//     characters and the field separator again, in the middle of a line, start a new
//     message there. A byte order mark followed by "MSH" does the same. (The skipping after
//     an error does not look for glued MSH segments, only for those at a line start.)
//   - Blank lines, whitespace-only lines and spaces before an MSH are ignored; spaces at the
//     end of a segment are data and are kept.
//   - A 0x1C outside an MLLP frame ends the message; a missing 0x0D after 0x1C is accepted.
//   - A segment name is three upper-case letters or digits ([A-Z0-9]{3}); it may be followed
//     directly by the line end (a segment with no fields). Lower-case names ("pid"), names
//     glued to text ("PIDX|") and lines starting with a space are errors, unless the
//     continuation rule above applies.
//   - The explicit null `""` is returned as the two characters; use the Null methods.
//   - FHS/BHS encoding characters are checked like MSH's; BTS/FTS counts are not checked.
//
// # Performance
//
// [Parse] and [Reader.Read] make one pass over the input that finds segment boundaries and
// field separators and records the separator offsets in one flat slice; repetitions,
// components and subcomponents are found on access by scanning the field. [Segment],
// [Field], [Rep], [Component] and [Subcomponent] are small values that point into the
// message: getting one never allocates, and Text does not allocate for text without escape
// sequences (the string shares the message's memory). With [Reader.ReuseBuffers] reading
// allocates nothing per message; Text then copies, and the AppendText methods decode into
// a buffer of the caller's.
package hl7v2
