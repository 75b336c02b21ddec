; Inno Setup 6 script for TrainDesk's Windows installer. packaging/build.py runs it as
;   ISCC /DAppVersion=0.1.0 /DSourceDir=dist\TrainDesk /DOutputDir=dist
;        /DOutputBaseName=TrainDesk-0.1.0-windows-x64-setup /DIconFile=build\icon\traindesk.ico
;        packaging\windows\traindesk.iss
; after PyInstaller made dist\TrainDesk\ and its self-test passed.
; Installs for the current user by default (no administrator needed), or for all users.
; Silent install for CI: TrainDesk-...-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /CURRENTUSER

#ifndef AppVersion
  #error Pass /DAppVersion=<version>
#endif
#ifndef SourceDir
  #error Pass /DSourceDir=<the PyInstaller folder dist\TrainDesk>
#endif
#ifndef OutputDir
  #define OutputDir "."
#endif
#ifndef OutputBaseName
  #define OutputBaseName "TrainDesk-" + AppVersion + "-windows-x64-setup"
#endif

[Setup]
; The AppId ties upgrades and the uninstaller together: never change it.
AppId={{6C1E7D3A-2F4B-4E8A-9B1D-7A5C3E2F9D41}
AppName=TrainDesk
AppVersion={#AppVersion}
AppVerName=TrainDesk {#AppVersion}
AppPublisher=TrainDesk developers
DefaultDirName={autopf}\TrainDesk
DefaultGroupName=TrainDesk
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename={#OutputBaseName}
#ifdef IconFile
SetupIconFile={#IconFile}
#endif
UninstallDisplayIcon={app}\TrainDesk.exe
UninstallDisplayName=TrainDesk {#AppVersion}
; The payload is mostly native libraries: fast compression, not solid, keeps the build short.
Compression=lzma2/fast
SolidCompression=no
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\TrainDesk"; Filename: "{app}\TrainDesk.exe"
Name: "{autodesktop}\TrainDesk"; Filename: "{app}\TrainDesk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\TrainDesk.exe"; Description: "{cm:LaunchProgram,TrainDesk}"; Flags: nowait postinstall skipifsilent

; Runs live in the user's data folder (%LOCALAPPDATA%\TrainDesk), never under {app}, so the
; uninstaller removes the program and leaves the user's runs alone.
