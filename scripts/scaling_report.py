#!/usr/bin/env python3
"""Turns scripts/scaling.sh's JSON lines into the markdown BENCHMARKS.md carries:
a table and a bar chart (unicode blocks, so it reads in a terminal and on a web page)
for speed and memory against parameter count, and for speed against context depth."""
import json
import statistics
import sys

BAR = 40


def bar(value, largest):
    eighths = round(value / largest * BAR * 8) if largest else 0
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def median(values):
    return statistics.median(values) if values else 0.0


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    sizes = [r for r in rows if r["kind"] == "size"]
    depths = [r for r in rows if r["kind"] == "depth"]

    if sizes:
        print("### Speed and memory against parameter count (random-weight `synth llama` models)\n")
        print("| model | weights | file MiB | peak MiB | pp32 tok/s | tg32 tok/s | roofline tok/s | tg share of roofline |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        chart = []
        for r in sizes:
            d = r["bench"]["depths"][0] if "depths" in r["bench"] else r["bench"]   # one depth: no list
            res = d["result"]
            pp, tg = median(res["prefill"]), median(res["decode"])
            roof = d["roofline_decode_tokens_per_s"]
            peak = res["peakResidentBytes"] / 2**20
            print(f"| synth {r['size']} | {r['type'].upper()} | {r['fileBytes'] / 2**20:,.0f} | {peak:,.0f} | "
                  f"{pp:.1f} | {tg:.1f} | {roof:.0f} | {tg / roof:.0%} |")
            chart.append((r["size"], tg, peak))
        print("\n```")
        print("decode tok/s")
        top = max(c[1] for c in chart)
        for name, tg, _ in chart:
            print(f"{name:>5} {bar(tg, top)} {tg:.1f}")
        print("\npeak memory MiB")
        top = max(c[2] for c in chart)
        for name, _, peak in chart:
            print(f"{name:>5} {bar(peak, top)} {peak:,.0f}")
        print("```\n")

    if depths:
        print("### Speed against a filled context (`bench --depth`, llama-bench's @ dN)\n")
        print("| model | depth | pp128 tok/s | tg32 tok/s | peak MiB |")
        print("|---|---:|---:|---:|---:|")
        chart = []
        for r in depths:
            for d in r["bench"]["depths"]:
                res = d["result"]
                pp, tg = median(res["prefill"]), median(res["decode"])
                print(f"| {r['model']} | {res['depth']} | {pp:.1f} | {tg:.1f} | {res['peakResidentBytes'] / 2**20:,.0f} |")
                chart.append((f"{r['model']} @{res['depth']}", tg))
        print("\n```")
        print("decode tok/s")
        top = max(c[1] for c in chart)
        for name, tg in chart:
            print(f"{name:>16} {bar(tg, top)} {tg:.1f}")
        print("```")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/lmlab-scaling.jsonl")
