//! `cachewatch completions` and `cachewatch man`: the shell completions and the manual page,
//! written from the command line's own definition, so that they never drift from it.

use std::io::Write;

use clap::CommandFactory;

use super::Failure;
use crate::args::{Cli, CompletionShell};

/// Prints the completion script of `shell`.
pub fn completions(shell: CompletionShell, out: &mut dyn Write) -> Result<(), Failure> {
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "cachewatch", out);
    out.flush()?;
    Ok(())
}

/// Prints the manual page, in roff: the command, its options and every subcommand's.
pub fn man_page(out: &mut dyn Write) -> Result<(), Failure> {
    let command = Cli::command();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    // Each subcommand's own options, as `cachewatch SUBCOMMAND --help` shows them: a section
    // per subcommand, its synopsis and options as subsections.
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("cachewatch {}", sub.get_name());
        let page = clap_mangen::Man::new(sub.clone().bin_name(name.clone()));
        let mut roff = Vec::new();
        page.render_synopsis_section(&mut roff)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            page.render_options_section(&mut roff)?;
        }
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        if let Some(about) = sub.get_about() {
            writeln!(out, "{}", escape_roff(&about.to_string()))?;
        }
        for line in String::from_utf8_lossy(&roff).lines() {
            // Each rendering starts with the roff preamble, written once above.
            if line.starts_with(".ie ") || line.starts_with(".el ") {
                continue;
            }
            match line.strip_prefix(".SH ") {
                Some(heading) => writeln!(out, ".SS {heading}")?,
                None => writeln!(out, "{line}")?,
            }
        }
    }
    man.render_version_section(out)?;
    out.flush()?;
    Ok(())
}

/// Text as a roff line: a leading `.` or `'` would be read as a request, `\` as an escape.
fn escape_roff(text: &str) -> String {
    let text = text.replace('\\', "\\e");
    if text.starts_with(['.', '\'']) {
        format!("\\&{text}")
    } else {
        text
    }
}
