import { describe, expect, it } from "vitest";
import { decodeCsvBytes, decodeWindows1252, kCsvSniffBytes, readCsvFile, sniffCsvEncoding } from "./csvFile";

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const bytes = (...parts: Array<number[] | string>) => new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? ascii(p) : p)));

describe("decodeCsvBytes", () => {
  it("reads UTF-8: é as C3 A9", () => {
    expect(decodeCsvBytes(bytes("email,name\na@x.test,Ren", [0xc3, 0xa9], "\n"))).toEqual({ text: "email,name\na@x.test,René\n", encoding: "utf-8" });
  });

  it("reads a file that is not UTF-8 as Windows-1252: é as E9", () => {
    expect(decodeCsvBytes(bytes("email,name\na@x.test,Ren", [0xe9], "\n"))).toEqual({ text: "email,name\na@x.test,René\n", encoding: "windows-1252" });
  });

  it("maps 0x80-0x9F the Windows-1252 way, not as Latin-1 controls", () => {
    // € ‚ ƒ „ … and the undefined 0x81 (kept as U+0081), ” Ÿ, then ÿ.
    const r = decodeCsvBytes(bytes([0x80, 0x82, 0x83, 0x84, 0x85, 0x81, 0x94, 0x9f, 0xff]));
    expect(r.encoding).toBe("windows-1252");
    expect(r.text).toBe("€‚ƒ„…\u0081”Ÿÿ");
  });

  it("drops a UTF-8 byte order mark and reads the rest as UTF-8", () => {
    expect(decodeCsvBytes(bytes([0xef, 0xbb, 0xbf], "email\nz", [0xc3, 0xab], "@x.test\n"))).toEqual({ text: "email\nzë@x.test\n", encoding: "utf-8" });
    // Even when what follows the mark is not UTF-8 (the server says the same; its row is refused).
    const marked = decodeCsvBytes(bytes([0xef, 0xbb, 0xbf], "a,", [0xe9]));
    expect(marked.encoding).toBe("utf-8");
    expect(marked.text).toBe("a,\uFFFD");
  });

  it("takes a file with invalid UTF-8 in the middle for Windows-1252 as a whole", () => {
    // Valid UTF-8 before and after one lone E9 byte: the whole file is read as Windows-1252.
    const r = decodeCsvBytes(bytes("name\nZo", [0xc3, 0xab], "\nRen", [0xe9], "\nJ", [0xc3, 0xbc], "rgen\n"));
    expect(r.encoding).toBe("windows-1252");
    expect(r.text).toBe("name\nZoÃ«\nRené\nJÃ¼rgen\n");
  });

  it("refuses overlong forms and surrogates as UTF-8, as the server does", () => {
    expect(sniffCsvEncoding(bytes("a", [0xc0, 0xaf], "\n"))).toBe("windows-1252");
    expect(sniffCsvEncoding(bytes("a", [0xed, 0xa0, 0x80], "\n"))).toBe("windows-1252");
    expect(sniffCsvEncoding(bytes("a", [0xf4, 0x90, 0x80, 0x80], "\n"))).toBe("windows-1252");
    expect(sniffCsvEncoding(bytes("a", [0xf0, 0x9f, 0x94, 0xa5], "\n"))).toBe("utf-8");
  });

  it("only the first 64 KiB decide: a bad byte further on keeps UTF-8 and shows as U+FFFD", () => {
    const filler = "x".repeat(kCsvSniffBytes);
    const r = decodeCsvBytes(bytes(filler, "\nRen", [0xe9], "\n"));
    expect(r.encoding).toBe("utf-8");
    expect(r.text.endsWith("\nRen\uFFFD\n")).toBe(true);
    // The same byte inside the first 64 KiB makes it Windows-1252.
    expect(decodeCsvBytes(bytes("Ren", [0xe9], "\n", filler)).encoding).toBe("windows-1252");
  });

  it("a character cut by the 64 KiB boundary still counts as UTF-8", () => {
    // é (C3 A9) with C3 as the last sniffed byte.
    const filler = "x".repeat(kCsvSniffBytes - 1);
    const r = decodeCsvBytes(bytes(filler, [0xc3, 0xa9], "\n"));
    expect(r.encoding).toBe("utf-8");
    expect(r.text.endsWith("xé\n")).toBe(true);
    // A 4-byte character cut after its third byte too; a stray continuation byte is not a cut.
    expect(sniffCsvEncoding(bytes("x".repeat(kCsvSniffBytes - 3), [0xf0, 0x9f, 0x94, 0xa5]))).toBe("utf-8");
    expect(sniffCsvEncoding(bytes("x".repeat(kCsvSniffBytes - 1), [0xa9]))).toBe("windows-1252");
  });

  it("a file ending in the middle of a character is UTF-8, as the server sniffs it", () => {
    // The server then refuses the row that holds the cut character.
    expect(decodeCsvBytes(bytes("a,Ren", [0xc3]))).toEqual({ text: "a,Ren\uFFFD", encoding: "utf-8" });
  });

  it("an empty file is UTF-8 and empty", () => {
    expect(decodeCsvBytes(new Uint8Array())).toEqual({ text: "", encoding: "utf-8" });
  });
});

describe("decodeWindows1252", () => {
  it("keeps ASCII and reads large inputs whole", () => {
    const big = new Uint8Array(100_000).fill(0xe9);
    big[0] = 0x41;
    const text = decodeWindows1252(big);
    expect(text.length).toBe(100_000);
    expect(text.startsWith("Aéé")).toBe(true);
    expect(text.endsWith("éé")).toBe(true);
  });
});

describe("readCsvFile", () => {
  it("reads a file's bytes, not its UTF-8 guess", async () => {
    const file = new Blob([bytes("email,name\na@x.test,Ren", [0xe9], "\n")], { type: "text/csv" });
    expect(await readCsvFile(file)).toEqual({ text: "email,name\na@x.test,René\n", encoding: "windows-1252" });
    const utf8 = new Blob([bytes([0xef, 0xbb, 0xbf], "a,Ren", [0xc3, 0xa9])]);
    expect(await readCsvFile(utf8)).toEqual({ text: "a,René", encoding: "utf-8" });
  });
});
