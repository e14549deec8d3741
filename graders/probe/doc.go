// Package probe talks to the program a check grades, for the checks of
// every chapter: it starts a server and waits until it serves
// (StartServer, StartHTTP), connects and speaks to it over TCP, UDP and
// HTTP (DialTCP, NewUDPPeer, HTTPServer), reads what the program prints,
// and records all of it in the check's transcript. It judges nothing an
// exercise requires: the checks several exercises share are in
// graders/checks, the others in their chapter.
package probe
