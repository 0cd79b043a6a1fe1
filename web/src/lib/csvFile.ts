// Reading a CSV file in the browser the way the server reads it (src/kiln/leads/csv_reader.cpp),
// so a preview shows the same characters the import will store: a UTF-8 byte order mark means
// UTF-8 (the mark is dropped); otherwise the first 64 KiB decide: UTF-8 when they are valid UTF-8
// (a character cut off at the very end of those bytes allowed), else Windows-1252 (which also
// reads Latin-1, as spreadsheet exports on Windows are). A UTF-8 file with invalid bytes past the
// first 64 KiB stays UTF-8: those bytes show as U+FFFD here, and the server refuses the rows that
// hold them. Pure functions (tested in csvFile.test.ts with real byte arrays); browsers' own
// "windows-1252" decoders differ (Node's reads 0x80-0x9F as Latin-1), so its table is here.

export type CsvEncoding = "utf-8" | "windows-1252";

export interface CsvText {
  /** The file's text, without a byte order mark. */
  text: string;
  encoding: CsvEncoding;
}

/** How the import screens name an encoding; unknown names are shown as they are. */
export const kCsvEncodingLabel: Record<string, string> = { "utf-8": "UTF-8", "windows-1252": "Windows-1252" };

/** The bytes that decide the encoding, as the server sniffs them. */
export const kCsvSniffBytes = 64 * 1024;

/**
 * Windows-1252 bytes 0x80-0x9F as Unicode; the five undefined ones map to the C1 control of the
 * same value, as the WHATWG encoding standard and the server do. 0xA0-0xFF are Latin-1.
 */
const kCp1252High = [
  0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
  0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
];

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Whether `head` is UTF-8 except perhaps for a sequence cut off at its very end (csv_reader.cpp IsUtf8Prefix). */
function isUtf8Prefix(head: Uint8Array): boolean {
  if (isValidUtf8(head)) return true;
  for (let cut = 1; cut <= 3 && cut < head.length; cut++) {
    const lead = head[head.length - cut];
    if ((lead & 0xc0) === 0xc0) return isValidUtf8(head.subarray(0, head.length - cut));
    if ((lead & 0xc0) !== 0x80) break;
  }
  return false;
}

/** `bytes` read as Windows-1252. */
export function decodeWindows1252(bytes: Uint8Array): string {
  const parts: string[] = [];
  const kChunk = 8192;
  for (let start = 0; start < bytes.length; start += kChunk) {
    const end = Math.min(bytes.length, start + kChunk);
    const codes = new Array<number>(end - start);
    for (let i = start; i < end; i++) {
      const b = bytes[i];
      codes[i - start] = b >= 0x80 && b < 0xa0 ? kCp1252High[b - 0x80] : b;
    }
    parts.push(String.fromCharCode(...codes));
  }
  return parts.join("");
}

/** The encoding the server takes a file starting with `bytes` for (only the first 64 KiB count). */
export function sniffCsvEncoding(bytes: Uint8Array): CsvEncoding {
  const head = bytes.subarray(0, kCsvSniffBytes);
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return "utf-8";
  return isUtf8Prefix(head) ? "utf-8" : "windows-1252";
}

/** A whole file's bytes as text, in the encoding the server would read them in. */
export function decodeCsvBytes(bytes: Uint8Array): CsvText {
  const encoding = sniffCsvEncoding(bytes);
  if (encoding === "windows-1252") return { text: decodeWindows1252(bytes), encoding };
  // Not fatal: bytes past the sniffed head that are not UTF-8 show as U+FFFD (the BOM is dropped).
  return { text: new TextDecoder("utf-8").decode(bytes), encoding };
}

/** Reads a chosen file (or any Blob) as decodeCsvBytes does; fails only when the file cannot be read. */
export async function readCsvFile(file: Blob): Promise<CsvText> {
  return decodeCsvBytes(new Uint8Array(await file.arrayBuffer()));
}
