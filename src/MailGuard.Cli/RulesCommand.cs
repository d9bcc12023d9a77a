using System.CommandLine;
using System.Diagnostics;
using System.Text;
using MailGuard.Analysis;

namespace MailGuard.Cli;

/// <summary>
/// <c>mgscan rules</c>: prints the recommended LOG rules for each firewall front-end (<see cref="MailRules"/>), or
/// with <c>--check</c> says what a ruleset lacks (<see cref="RulesetCheck"/>). Option parsing and printing only.
/// </summary>
internal static class RulesCommand
{
    /// <summary>Exit codes of <c>--check</c>.</summary>
    internal static class CheckExit
    {
        /// <summary>Nothing missing.</summary>
        public const int Complete = 0;

        /// <summary>Something missing (listed).</summary>
        public const int Missing = 1;
    }

    private static readonly (string Name, FirewallFrontEnd FrontEnd)[] s_frontEnds =
    [
        ("iptables", FirewallFrontEnd.Iptables),
        ("iptables-restore", FirewallFrontEnd.IptablesRestore),
        ("nft", FirewallFrontEnd.Nftables),
        ("firewalld", FirewallFrontEnd.Firewalld),
        ("ufw", FirewallFrontEnd.Ufw),
    ];

    public static Command Create(TextWriter stderr)
    {
        var files = new Argument<string[]>("files")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "With --check: iptables-save, ip6tables-save or nft -j list ruleset output ('-': standard input). None: the live rules (as root).",
        };
        var frontEnd = new Option<string?>("--front-end")
        {
            Description = "Print the rules for one front-end only: iptables (commands), iptables-restore (a fragment), nft (a file for nft -f), firewalld or ufw (before.rules lines). Default: all.",
            HelpName = "iptables|iptables-restore|nft|firewalld|ufw",
            CustomParser = r => s_frontEnds.Any(f => f.Name == r.Tokens[^1].Value) ? r.Tokens[^1].Value : Options.Fail<string?>(r, $"--front-end: '{r.Tokens[^1].Value}' is not {Options.Accepts("--front-end")}", null),
        };
        var check = new Option<bool>("--check")
        {
            Description = "Say what the ruleset lacks (FILES, or the live rules when run as root). Exit 0 complete, 1 something missing, 2 an error.",
            Arity = ArgumentArity.Zero,
        };
        var mailPorts = new Option<string[]>("--mail-ports")
        {
            Description = "The mail ports (default 25,465,587,2525): numbers or names, comma-separated.",
        };
        var action = new Option<string>("--action")
        {
            Description = "What happens after the LOG rule: drop (default), reject (a TCP reset: senders fail at once) or log-only.",
            HelpName = "drop|reject|log-only",
            DefaultValueFactory = _ => "drop",
            CustomParser = r => r.Tokens[^1].Value is "drop" or "reject" or "log-only" ? r.Tokens[^1].Value : Options.Fail(r, $"--action: '{r.Tokens[^1].Value}' is not {Options.Accepts("--action")}", ""),
        };
        var allowUser = new Option<string[]>("--allow-user")
        {
            Description = "A user whose mail connections are logged and then accepted (the mail server: postfix); repeatable or comma-separated.",
        };
        var perService = new Option<string[]>("--per-service")
        {
            Description = "systemd services (v2ray.service, or v2ray) logged under their own prefix 'TCP-OUT <port> <service>:', matched by their cgroup: tells apart services that share a UID.",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var forward = new Option<bool>("--forward")
        {
            Description = "Also log and drop forwarded mail traffic (clients of a VPN, containers).",
            Arity = ArgumentArity.Zero,
        };
        var logLimit = new Option<string>("--log-limit")
        {
            Description = "How many lines each LOG rule may write: N/second, N/minute, N/hour or N/day (default 10/second).",
            DefaultValueFactory = _ => "10/second",
        };
        var logBurst = new Option<int>("--log-burst")
        {
            Description = "How many lines may come at once before the limit applies (default 50).",
            DefaultValueFactory = _ => 50,
            CustomParser = r => int.TryParse(r.Tokens[^1].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 10_000
                ? n : Options.Fail(r, $"--log-burst: '{r.Tokens[^1].Value}' is not {Options.Accepts("--log-burst")}", 0),
        };
        var passwd = new Option<string?>("--passwd")
        {
            Description = "With --check: user names from this passwd file instead of /etc/passwd (rulesets show UIDs).",
        };
        var command = new Command("rules", """
            Print the LOG rules mgscan is built for, or check a ruleset for them.

            For every mail port: new outgoing connections are logged with the sender's UID under the prefix
            'IPTABLES TCP-OUT <port>:' at a limited rate, then dropped, except the --allow-user users'.
            Examples:
              mgscan rules --front-end nft --allow-user postfix > /etc/nftables.d/mailguard.nft
              mgscan rules --per-service v2ray.service shadowsocks-libev.service
              sudo mgscan rules --check                       (the live rules)
              mgscan rules --check rules.v4 rules.v6          (iptables-save and ip6tables-save output)

            Exit status: 0 printed, or (--check) nothing missing; 1 (--check) something missing; 2 a wrong option,
            a ruleset that cannot be read, or --check of the live rules without root.
            """)
        {
            files,
            frontEnd,
            check,
            mailPorts,
            action,
            allowUser,
            perService,
            forward,
            logLimit,
            logBurst,
            passwd,
        };
        command.SetAction(result =>
        {
            if (!Options.TryPorts("--mail-ports", result.GetValue(mailPorts), out ushort[]? ports, out string? error)
                || !TryUsers(result.GetValue(allowUser), out string[] users, out error)
                || !TryServices(result.GetValue(perService), out string[] services, out error)
                || !TryLimit(result.GetValue(logLimit)!, result.GetValue(logBurst), out LogRateLimit limit, out error))
            {
                stderr.WriteLine($"mgscan: {error}");
                return Program.ExitCode.Error;
            }

            var options = new MailRuleOptions
            {
                MailPorts = ports ?? new MailRuleOptions().MailPorts,
                Action = result.GetValue(action) switch { "reject" => MailTrafficAction.Reject, "log-only" => MailTrafficAction.LogOnly, _ => MailTrafficAction.Drop },
                AllowedUsers = users,
                Services = services,
                Forward = result.GetValue(forward),
                RateLimit = limit,
            };
            string[] inputs = result.GetValue(files) ?? [];
            if (!result.GetValue(check))
            {
                if (inputs.Length > 0)
                {
                    stderr.WriteLine($"mgscan: rules: '{inputs[0]}': a ruleset is read only with --check");
                    return Program.ExitCode.Error;
                }

                return Print(options, result.GetValue(frontEnd), stderr);
            }

            return Check(options, inputs, result.GetValue(passwd), stderr);
        });
        return command;
    }

    private static bool TryUsers(string[]? values, out string[] users, out string? error)
    {
        users = [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal)];
        error = users.FirstOrDefault(u => !MailRules.IsUserName(u)) is { } bad ? $"--allow-user: '{bad}' is not {Options.Accepts("--allow-user")}" : null;
        return error is null;
    }

    private static bool TryServices(string[]? values, out string[] units, out string? error)
    {
        var list = new List<string>();
        foreach (string value in values ?? [])
        {
            try
            {
                string unit = MailRules.ServiceUnit(value);
                if (!list.Contains(unit))
                {
                    list.Add(unit);
                }
            }
            catch (ArgumentException)
            {
                units = [];
                error = $"--per-service: '{value}' is not {Options.Accepts("--per-service")}";
                return false;
            }
        }

        units = [.. list];
        error = null;
        return true;
    }

    private static bool TryLimit(string rate, int burst, out LogRateLimit limit, out string? error)
    {
        error = LogRateLimit.TryParse(rate, burst, out limit) ? null : $"--log-limit: '{rate}' is not {Options.Accepts("--log-limit")}";
        return error is null;
    }

    /// <summary>The rules, raw: every name in them was validated, and the nft file's tabs must stay tabs.</summary>
    private static int Print(MailRuleOptions options, string? only, TextWriter stderr)
    {
        var text = new StringBuilder();
        try
        {
            if (only is not null)
            {
                text.Append(MailRules.Generate(s_frontEnds.First(f => f.Name == only).FrontEnd, options));
            }
            else
            {
                foreach ((string name, FirewallFrontEnd fe) in s_frontEnds)
                {
                    text.Append(text.Length == 0 ? "" : "\n").Append("# ===== ").Append(name).Append(" (mgscan rules --front-end ").Append(name).Append(") =====\n");
                    try
                    {
                        text.Append(MailRules.Generate(fe, options));
                    }
                    catch (ArgumentException e) when (fe == FirewallFrontEnd.Firewalld)
                    {
                        text.Append("# not possible: ").Append(e.Message.Split(" (Parameter")[0]).Append('\n');
                    }
                }
            }
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine($"mgscan: {e.Message.Split(" (Parameter")[0]}");
            return Program.ExitCode.Error;
        }

        using var stdout = new StreamWriter(new OutputStream(Console.OpenStandardOutput()), new UTF8Encoding(false));
        stdout.Write(text.ToString());
        return Program.ExitCode.Found;
    }

    private static int Check(MailRuleOptions options, string[] inputs, string? passwdFile, TextWriter stderr)
    {
        IReadOnlyDictionary<uint, string> names = new Dictionary<uint, string>();
        string passwdPath = passwdFile ?? "/etc/passwd";
        try
        {
            names = UserNames.Parse(File.ReadAllText(passwdPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (passwdFile is not null)
            {
                stderr.WriteLine($"mgscan: {passwdFile}: cannot read it ({e.Message}); users are compared by number");
            }
        }

        options = options with { UserNames = names };
        var rulesets = new List<FirewallRuleset>();
        if (inputs.Length == 0)
        {
            if (!Environment.IsPrivilegedProcess)
            {
                stderr.WriteLine("mgscan: rules --check without FILE reads the live rules, which needs root: sudo mgscan rules --check; "
                    + "or save them as root and check the files: iptables-save > v4; ip6tables-save > v6; nft -j list ruleset > nft.json; mgscan rules --check v4 v6 nft.json");
                return Program.ExitCode.Error;
            }

            if (!Live(rulesets, stderr))
            {
                return Program.ExitCode.Error;
            }
        }
        else
        {
            foreach (string input in inputs)
            {
                try
                {
                    byte[] content = input == "-" ? ReadStdin() : File.ReadAllBytes(input);
                    rulesets.Add(FirewallRuleset.Parse(content, input));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"mgscan: {input}: {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}");
                    return Program.ExitCode.Error;
                }
                catch (FormatException e)
                {
                    stderr.WriteLine($"mgscan: {input}: not a ruleset mgscan reads: {e.Message}");
                    return Program.ExitCode.Error;
                }
            }
        }

        RulesetCheckResult result = RulesetCheck.Check(rulesets, options);
        using var raw = new StreamWriter(new OutputStream(Console.OpenStandardOutput()), new UTF8Encoding(false));
        var stdout = new TerminalWriter(raw); // escapes what the ruleset holds (prefixes, rule text); flushed with raw
        stdout.WriteLine("mgscan rules --check: " + string.Join(", ", result.Sources));
        foreach (RuleFinding f in result.Findings)
        {
            string level = f.Level switch { RuleFindingLevel.Ok => "ok     ", RuleFindingLevel.Note => "note   ", _ => "MISSING" };
            stdout.WriteLine($"  {level} {f.Subject}: {f.Message}");
        }

        int missing = result.Findings.Count(f => f.Level == RuleFindingLevel.Missing);
        bool nftOnly = rulesets.All(r => r.Format == RulesetFormat.NftJson);
        stdout.WriteLine(missing == 0
            ? "Complete: every mail port is logged with the UID, at a limited rate, then " + (options.Action == MailTrafficAction.LogOnly ? "let go (log only)." : "stopped.")
            : $"{missing} missing. The recommended rules: mgscan rules --front-end {(nftOnly ? "nft" : "iptables")} (also iptables-restore, nft, firewalld, ufw)");
        return missing == 0 ? CheckExit.Complete : CheckExit.Missing;
    }

    private static byte[] ReadStdin()
    {
        using Stream stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>Runs iptables-save, ip6tables-save and nft -j list ruleset, whichever exist; false when none gave a ruleset.</summary>
    private static bool Live(List<FirewallRuleset> rulesets, TextWriter stderr)
    {
        (string Tool, string[] Args, IpFamily? Family)[] tools =
        [
            ("iptables-save", [], IpFamily.IPv4),
            ("ip6tables-save", [], IpFamily.IPv6),
            ("nft", ["-j", "list", "ruleset"], null),
        ];
        bool anyTool = false;
        foreach ((string tool, string[] args, IpFamily? family) in tools)
        {
            if (Which(tool) is not { } path)
            {
                continue;
            }

            anyTool = true;
            string name = string.Join(' ', [tool, .. args]);
            (int code, byte[] output, string error) = RunTool(path, args);
            if (code != 0)
            {
                stderr.WriteLine($"mgscan: {name} failed (exit {code}): {TerminalText.OneLine(error.Trim())}; checking without it");
                continue;
            }

            try
            {
                rulesets.Add(family is { } f ? FirewallRuleset.ParseIptablesSave(Encoding.UTF8.GetString(output), name, f) : FirewallRuleset.ParseNftJson(output, name));
            }
            catch (FormatException e)
            {
                stderr.WriteLine($"mgscan: {name}: cannot read its output: {e.Message}");
            }
        }

        if (rulesets.Count == 0)
        {
            stderr.WriteLine(anyTool ? "mgscan: no ruleset could be read" : "mgscan: none of iptables-save, ip6tables-save, nft is installed: no rules to check");
            return false;
        }

        return true;
    }

    private static string? Which(string tool)
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (string dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin"]))
        {
            string full = Path.Combine(dir, tool);
            if (File.Exists(full))
            {
                return full;
            }
        }

        return null;
    }

    private static (int Code, byte[] Output, string Error) RunTool(string path, string[] args)
    {
        var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        p.StandardInput.Close();
        using var output = new MemoryStream();
        Task copy = p.StandardOutput.BaseStream.CopyToAsync(output);
        Task<string> error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(15_000))
        {
            p.Kill(entireProcessTree: true);
            return (-1, [], "did not finish within 15 s");
        }

        copy.Wait();
        return (p.ExitCode, output.ToArray(), error.Result);
    }
}
