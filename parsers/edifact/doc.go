// Package edifact reads and writes UN/EDIFACT interchanges (ISO 9735), as the NHS uses them
// for pathology and screening reports (MEDRPT NHS002/NHS003/NHS004), their NHSACK
// acknowledgements, and GP registration (FHSREG, RECEP).
//
// A [Reader] streams messages like encoding/csv streams records: [Reader.Read] returns one
// UNH … UNT [Message] at a time with its interchange (UNB … UNZ) and functional group
// (UNG … UNE) context, and [io.EOF] at the end. Supported:
//
//   - syntax versions 1 to 4; a UNA service string advice (exactly six characters; a short
//     or malformed UNA is [ErrUNA]); without UNA the level A characters ' + : ? (and . as
//     decimal mark);
//   - the release character before any service character; before any other character it is
//     kept as data, with a warning (policy, after php-edifact: ISO 9735 §7.3 allows it only
//     before service characters);
//   - the repetition separator only in syntax version 4: in versions 1–3 '*' is data;
//   - character sets UNOA, UNOB, UNOC (ISO 8859-1, decoded to UTF-8), UNOW and UNOY (UTF-8);
//   - line breaks and spaces between segments are ignored; inside data they are data;
//   - control counts and references (UNT 0074/0062, UNE 0060/0048, UNZ 0036/0020) are
//     warnings ([Message.Warnings]) by default, errors with [Reader.Strict]: the NHS
//     adaptors accept interchanges that break them (26 real files do);
//   - messages without UNB (documentation samples) and a missing final terminator (warning).
//
// Deviations: the decimal mark is recorded but numbers are not rewritten; UNOD…UNOK are not
// decoded ([ErrSyntaxID]).
//
// [NewTree] arranges a message into segment groups by a [Structure] (data, from the
// mappings' `structures: edifact` documents) for the mapping engine, whose path language
// ([Schema]) is described in docs/edifact.md. [Writer] writes segments with release
// escapes; [NHSAck] and [Recep] write the NHS acknowledgements.
package edifact
