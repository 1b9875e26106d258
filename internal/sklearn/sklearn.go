// Package sklearn finds the Python that has scikit-learn, for the export's
// parity test and the benchmarks' Python side. Debian's python3-sklearn
// installs it for /usr/bin/python3, which need not be the first python3 on
// PATH (pyenv, a virtualenv).
package sklearn

import "os/exec"

// Hint is what to do where Python returns "".
const Hint = "scikit-learn not found for python3 or /usr/bin/python3; install it (Debian/Ubuntu: `sudo apt-get install python3-sklearn`)"

// Python returns an interpreter that imports scikit-learn and joblib, or "".
func Python() string {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import sklearn, joblib").Run() == nil {
			if abs, err := exec.LookPath(py); err == nil {
				return abs
			}
		}
	}
	return ""
}
